package distribution

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/distribution/reference"
	registrytypes "github.com/moby/moby/api/types/registry"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	tarballpkg "github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/snapshot"
)

// fakeRegistry is go-containerregistry's in-process registry, with a hook
// that may rewrite or stall responses.
type fakeRegistry struct {
	host string
	mu   sync.Mutex
	hook func(w http.ResponseWriter, r *http.Request) bool // true: handled
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	t.Helper()
	f := &fakeRegistry{}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		hook := f.hook
		f.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.host = strings.TrimPrefix(srv.URL, "http://")
	return f
}

func (f *fakeRegistry) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

// env is an image store on the copy snapshotter (no root needed) and its
// distribution service.
type env struct {
	root  string
	store *image.Store
	svc   *Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return openEnv(t, t.TempDir())
}

// openEnv opens (again) the store at root.
func openEnv(t *testing.T, root string) *env {
	t.Helper()
	sn, err := snapshot.NewCopy(filepath.Join(root, "snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	st, err := image.NewStore(root, image.WithSnapshotter(sn), image.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	// An empty certs.d: loopback registries are insecure-allowed.
	return &env{root: root, store: st, svc: New(st, Options{CertsDir: t.TempDir(), Logger: quiet})}
}

// blobs lists the content store.
func (e *env) blobs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.root, "content", "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		out = append(out, en.Name())
	}
	return out
}

// importLayer imports a one-layer image of files under ref.
func (e *env) importLayer(t *testing.T, ref string, files ...file) string {
	t.Helper()
	id, err := e.store.Import(context.Background(), bytes.NewReader(tarOf(t, files...)), ref, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// file is one regular file of a test layer.
type file struct{ name, body string }

func tarOf(t *testing.T, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(f.body)), ModTime: time.Unix(1, 0)}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// write pushes img to the fake registry under ref ("repo:tag").
func (f *fakeRegistry) write(t *testing.T, ref string, img v1.Image) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(f.host+"/"+ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// randomLayer is a gzip layer of one readable file of random bytes
// (random.Layer's files have mode 0, which only root can copy).
func randomLayer(t *testing.T, size int64, mt types.MediaType) v1.Layer {
	t.Helper()
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	l, err := tarballpkg.LayerFromReader(bytes.NewReader(tarOf(t, file{name: "random.bin", body: string(data)})), tarballpkg.WithMediaType(mt))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func randomImage(t *testing.T, layers int, size int64, mt types.MediaType) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	for i := 0; i < layers; i++ {
		var err error
		if img, err = mutate.AppendLayers(img, randomLayer(t, size, mt)); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// events collects progress.
type events struct {
	mu  sync.Mutex
	all []ProgressEvent
}

func (e *events) add(ev ProgressEvent) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

// byLayer lists each layer's statuses in order.
func (e *events) byLayer() map[string][]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string][]string{}
	for _, ev := range e.all {
		if ev.Detail && ev.ID != "" {
			out[ev.ID] = append(out[ev.ID], ev.Status)
		}
	}
	return out
}

// compact drops repeated statuses (transfer updates).
func compact(statuses []string) []string {
	return slices.Compact(slices.Clone(statuses))
}

func (e *events) count(status string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if strings.HasPrefix(ev.Status, status) {
			n++
		}
	}
	return n
}

func TestPullPushRoundTrip(t *testing.T) {
	e := newEnv(t)
	f := newFakeRegistry(t)
	ctx := context.Background()
	img := randomImage(t, 2, 50_000, types.DockerLayer)
	manifest := f.write(t, "a/b:v1", img)
	cfg, _ := img.ConfigName()

	var ev events
	res, err := e.svc.Pull(ctx, mustNamed(t, f.host+"/a/b:v1"), PullOptions{Progress: ev.add})
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != cfg.String() || res.Digest.String() != manifest.String() || res.UpToDate {
		t.Errorf("pull result %+v, want id %s digest %s", res, cfg, manifest)
	}
	// Each layer starts with "Pulling fs layer" and ends with "Pull
	// complete", after "Download complete" (extraction runs along the
	// download, so "Extracting" may come between the transfer's updates).
	for id, got := range ev.byLayer() {
		done, complete := slices.Index(got, "Download complete"), slices.Index(got, "Pull complete")
		if got[0] != "Pulling fs layer" || complete != len(got)-1 || done < 0 || done > complete {
			t.Errorf("layer %s statuses %q", id, compact(got))
		}
	}
	if ev.count("Pull complete") != 2 || ev.count("Pulling from a/b") != 1 || ev.count("Status: Downloaded newer image for "+f.host+"/a/b:v1") != 1 {
		t.Errorf("progress: %+v", ev.all)
	}
	got, err := e.store.Get(ctx, f.host+"/a/b:v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RepoDigests) != 1 || got.RepoDigests[0] != f.host+"/a/b@"+manifest.String() {
		t.Errorf("RepoDigests %v", got.RepoDigests)
	}
	var again events
	res, err = e.svc.Pull(ctx, mustNamed(t, f.host+"/a/b:v1"), PullOptions{Progress: again.add})
	if err != nil || !res.UpToDate || again.count("Status: Image is up to date") != 1 || again.count("Pull complete") != 0 {
		t.Errorf("second pull: %+v %v %+v", res, err, again.all)
	}

	// Pushing the pulled image elsewhere keeps its manifest digest.
	if err := e.store.Tag(ctx, f.host+"/a/b:v1", f.host+"/c", "v2"); err != nil {
		t.Fatal(err)
	}
	var pev events
	pushed, err := e.svc.Push(ctx, f.host+"/c", "v2", PushOptions{Progress: pev.add})
	if err != nil {
		t.Fatal(err)
	}
	if len(pushed) != 1 || pushed[0].Digest.String() != manifest.String() {
		t.Errorf("pushed %+v, want digest %s", pushed, manifest)
	}
	// (This registry keeps blobs across repositories: they "exist".)
	if pev.count("Mounted from a/b")+pev.count("Layer already exists") != 2 || pev.count("Pushed") != 0 {
		t.Errorf("push should upload no layer: %+v", pev.all)
	}
	d, err := remote.Head(mustRef(t, f.host+"/c:v2"))
	if err != nil || d.Digest != manifest {
		t.Errorf("registry has %v (%v) for c:v2", d, err)
	}
	// A second push finds everything there.
	var pev2 events
	if _, err := e.svc.Push(ctx, f.host+"/c", "v2", PushOptions{Progress: pev2.add}); err != nil {
		t.Fatal(err)
	}
	if pev2.count("Layer already exists") != 2 || pev2.count("v2: digest: "+manifest.String()) != 1 {
		t.Errorf("second push: %+v", pev2.all)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPushImportedImageCompressesOnce(t *testing.T) {
	e := newEnv(t)
	f := newFakeRegistry(t)
	ctx := context.Background()
	id := e.importLayer(t, f.host+"/imp:v1", file{name: "hello.txt", body: "hello"})
	var ev events
	res, err := e.svc.Push(ctx, f.host+"/imp", "", PushOptions{Progress: ev.add})
	if err != nil || len(res) != 1 || res[0].Tag != "v1" {
		t.Fatalf("push: %+v %v", res, err)
	}
	if ev.count("Pushed") != 1 || ev.count("Preparing") != 1 || ev.count("The push refers to repository ["+f.host+"/imp]") != 1 {
		t.Errorf("progress: %+v", ev.all)
	}
	// The registry image pulls back, in a fresh store, as the same image.
	e2 := newEnv(t)
	pres, err := e2.svc.Pull(ctx, mustNamed(t, f.host+"/imp:v1"), PullOptions{})
	if err != nil || pres.ID != id || pres.Digest != res[0].Digest {
		t.Fatalf("pull back: %+v %v (id %s, pushed %s)", pres, err, id, res[0].Digest)
	}
	// Pushing again sends the same compressed blob: same digest.
	res2, err := e.svc.Push(ctx, f.host+"/imp", "v1", PushOptions{})
	if err != nil || res2[0].Digest != res[0].Digest {
		t.Errorf("second push: %+v %v", res2, err)
	}
	if _, err := e.svc.Push(ctx, f.host+"/imp", "nope", PushOptions{}); err == nil || err.Error() != "tag does not exist: "+f.host+"/imp:nope" {
		t.Errorf("push of a missing tag: %v", err)
	}
	if _, err := e.svc.Push(ctx, f.host+"/other", "", PushOptions{}); err == nil || err.Error() != "An image does not exist locally with the tag: "+f.host+"/other" {
		t.Errorf("push of a missing repository: %v", err)
	}
}

func TestPullIndexPicksPlatform(t *testing.T) {
	e := newEnv(t)
	f := newFakeRegistry(t)
	ctx := context.Background()
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	host := randomImage(t, 1, 1000, types.DockerLayer)
	foreign := randomImage(t, 1, 1000, types.DockerLayer)
	cf, _ := foreign.ConfigFile()
	cf.Architecture = other
	foreign, _ = mutate.ConfigFile(foreign, cf)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.DockerManifestList),
		mutate.IndexAddendum{Add: foreign, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: other}}},
		mutate.IndexAddendum{Add: host, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}},
	)
	ref := mustRef(t, f.host+"/multi:v1")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	hostCfg, _ := host.ConfigName()
	foreignCfg, _ := foreign.ConfigName()

	res, err := e.svc.Pull(ctx, mustNamed(t, f.host+"/multi:v1"), PullOptions{})
	if err != nil || res.ID != hostCfg.String() || res.Digest.String() != idxDigest.String() {
		t.Fatalf("pull: %+v %v (want %s from %s)", res, err, hostCfg, idxDigest)
	}
	res, err = e.svc.Pull(ctx, mustNamed(t, f.host+"/multi:v1"), PullOptions{Platform: &ocispec.Platform{OS: "linux", Architecture: other}})
	if err != nil || res.ID != foreignCfg.String() {
		t.Fatalf("pull --platform %s: %+v %v", other, res, err)
	}
	_, err = e.svc.Pull(ctx, mustNamed(t, f.host+"/multi:v1"), PullOptions{Platform: &ocispec.Platform{OS: "linux", Architecture: "s390x"}})
	if err == nil || err.Error() != "no matching manifest for linux/s390x in the manifest list entries" {
		t.Errorf("unknown platform: %v", err)
	}
	desc, platforms, err := e.svc.Inspect(ctx, f.host+"/multi:v1", registrytypes.AuthConfig{})
	if err != nil || desc.Digest.String() != idxDigest.String() || len(platforms) != 2 {
		t.Errorf("distribution inspect: %+v %+v %v", desc, platforms, err)
	}
}

func TestPullZstdLayer(t *testing.T) {
	e := newEnv(t)
	f := newFakeRegistry(t)
	tarball := tarOf(t, file{name: "z.txt", body: strings.Repeat("zstd ", 1000)})
	l, err := tarballLayer(tarball)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, "z:v1", img)
	if _, err := e.svc.Pull(context.Background(), mustNamed(t, f.host+"/z:v1"), PullOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.Get(context.Background(), f.host+"/z:v1")
	if err != nil || got.Config.RootFS.DiffIDs[0] != digest.FromBytes(tarball) {
		t.Errorf("zstd layer: %+v %v", got, err)
	}
}

// tarballLayer is a zstd-compressed OCI layer of an uncompressed tar.
func tarballLayer(tarball []byte) (v1.Layer, error) {
	return tarballpkg.LayerFromReader(bytes.NewReader(tarball), tarballpkg.WithCompression(compression.ZStd), tarballpkg.WithMediaType(types.OCILayerZStd))
}

func TestPullErrors(t *testing.T) {
	e := newEnv(t)
	f := newFakeRegistry(t)
	ctx := context.Background()
	img := randomImage(t, 2, 30_000, types.DockerLayer)
	f.write(t, "e:v1", img)
	layers, _ := img.Layers()
	bad, _ := layers[1].Digest()

	_, err := e.svc.Pull(ctx, mustNamed(t, f.host+"/e:nope"), PullOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "manifest for "+f.host+"/e:nope not found: manifest unknown: ") {
		t.Errorf("unknown tag: %v", err)
	}
	before := e.blobs(t)

	// A registry serving altered bytes for a layer.
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+bad.String()) {
			return false
		}
		body, _ := layers[1].Compressed()
		data, _ := io.ReadAll(body)
		data[len(data)/2] ^= 0xff
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
		return true
	})
	_, err = e.svc.Pull(ctx, mustNamed(t, f.host+"/e:v1"), PullOptions{})
	if err == nil || err.Error() != "filesystem layer verification failed for digest "+bad.String() {
		t.Errorf("corrupt layer: %v", err)
	}
	after := e.blobs(t)
	if len(after) != len(before) {
		t.Errorf("a corrupt pull kept blobs: before %v after %v", before, after)
	}
	if _, err := e.store.Get(ctx, f.host+"/e:v1"); err == nil {
		t.Errorf("a corrupt pull left an image")
	}

	// A malformed manifest.
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
		io.WriteString(w, `{"schemaVersion":2,"config":{"digest":"nope"}`)
		return true
	})
	_, err = e.svc.Pull(ctx, mustNamed(t, f.host+"/e:v1"), PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "invalid manifest") {
		t.Errorf("malformed manifest: %v", err)
	}
	f.setHook(nil)

	// Nobody listening.
	closed := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()
	_, err = e.svc.Pull(ctx, mustNamed(t, host+"/x:v1"), PullOptions{})
	if err == nil || !strings.Contains(err.Error(), `Get "http://`+host+`/v2/": dial tcp `+host+`: connect: connection refused`) {
		t.Errorf("refused: %v", err)
	}
}

func TestPullInterruptedReusesVerifiedLayers(t *testing.T) {
	e := newEnv(t)
	f := newFakeRegistry(t)
	img := randomImage(t, 3, 40_000, types.DockerLayer)
	f.write(t, "i:v1", img)
	layers, _ := img.Layers()
	stall, _ := layers[2].Digest()

	ctx, cancel := context.WithCancel(context.Background())
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/blobs/"+stall.String()) {
			cancel() // the client goes away while this layer is on its way
			<-r.Context().Done()
			return true
		}
		return false
	})
	var ev events
	oneByOne := New(e.store, Options{CertsDir: t.TempDir(), Downloads: 1})
	_, err := oneByOne.Pull(ctx, mustNamed(t, f.host+"/i:v1"), PullOptions{Progress: ev.add})
	if err == nil {
		t.Fatal("the interrupted pull succeeded")
	}
	f.setHook(nil)
	if _, err := e.store.Get(context.Background(), f.host+"/i:v1"); err == nil {
		t.Fatal("an interrupted pull left an image")
	}
	// Reopening the store (a restart) keeps the verified layers too.
	e2 := openEnv(t, e.root)
	var again events
	if _, err := e2.svc.Pull(context.Background(), mustNamed(t, f.host+"/i:v1"), PullOptions{Progress: again.add}); err != nil {
		t.Fatal(err)
	}
	if again.count("Already exists") < 1 {
		t.Errorf("the second pull reused nothing: %+v\nfirst: %+v", again.all, ev.all)
	}
	// Prune drops what interrupted pulls kept.
	if _, err := e2.store.Prune(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if leases, _ := os.ReadDir(filepath.Join(e.root, "image", "leases")); len(leases) != 0 {
		t.Errorf("leases after prune: %v", leases)
	}
}

// TestPullPushBearerToken runs against a registry that wants a bearer
// token from a token server checking basic credentials, as Docker Hub does.
func TestPullPushBearerToken(t *testing.T) {
	e := newEnv(t)
	f := newFakeRegistry(t)
	const token = "tok-123"
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/token" {
			if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "pw" {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"incorrect username or password"}]}`)
				return true
			}
			io.WriteString(w, `{"token":"`+token+`"}`)
			return true
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="fake"`)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return true
		}
		return false
	})
	ctx := context.Background()
	id := e.importLayer(t, f.host+"/private:v1", file{name: "secret.txt", body: "s"})
	var auth registrytypes.AuthConfig
	if _, err := e.svc.Push(ctx, f.host+"/private", "v1", PushOptions{Auth: auth}); err == nil {
		t.Fatal("anonymous push to a token registry succeeded")
	}
	auth.Username, auth.Password = "u", "pw"
	if _, err := e.svc.Push(ctx, f.host+"/private", "v1", PushOptions{Auth: auth}); err != nil {
		t.Fatal(err)
	}
	e2 := newEnv(t)
	res, err := e2.svc.Pull(ctx, mustNamed(t, f.host+"/private:v1"), PullOptions{Auth: auth})
	if err != nil || res.ID != id {
		t.Fatalf("pull with a token: %+v %v", res, err)
	}
	auth.Password = "wrong"
	_, err = e2.svc.Pull(ctx, mustNamed(t, f.host+"/private:v1"), PullOptions{Auth: auth})
	if err == nil || !strings.Contains(err.Error(), "unauthorized: incorrect username or password") {
		t.Errorf("wrong password: %v", err)
	}
}

// mustNamed parses a reference as the API edge does before a pull.
func mustNamed(t testing.TB, s string) reference.Named {
	t.Helper()
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		t.Fatal(err)
	}
	return named
}
