package build

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/snapshot"
)

// fakeImages is a local store of a few images, their blobs in files.
type fakeImages struct {
	dir    string
	images map[string]*image.Distributable // by reference and by id
	blobs  map[digest.Digest]string
}

func newFakeImages(t *testing.T) *fakeImages {
	return &fakeImages{dir: t.TempDir(), images: map[string]*image.Distributable{}, blobs: map[digest.Digest]string{}}
}

func (f *fakeImages) blob(t *testing.T, data []byte) digest.Digest {
	d := digest.FromBytes(data)
	p := filepath.Join(f.dir, d.Encoded())
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f.blobs[d] = p
	return d
}

// add stores an image of uncompressed layers under refs.
func (f *fakeImages) add(t *testing.T, layers [][]byte, refs ...string) *image.Distributable {
	img := &image.Distributable{}
	var cfg ocispec.Image
	cfg.OS, cfg.Architecture, cfg.RootFS.Type = "linux", "amd64", "layers"
	for _, l := range layers {
		d := f.blob(t, l)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, d)
		img.Layers = append(img.Layers, image.Layer{Blob: d, MediaType: ocispec.MediaTypeImageLayer, BlobSize: int64(len(l)), Snapshot: snapshot.Info{DiffID: d}})
	}
	img.Config, _ = json.Marshal(cfg)
	img.ID = f.blob(t, img.Config)
	for _, r := range refs {
		f.images[r] = img
	}
	f.images[img.ID.String()] = img
	return img
}

func (f *fakeImages) Distributable(ctx context.Context, ref string) (*image.Distributable, error) {
	if img, ok := f.images[ref]; ok {
		return img, nil
	}
	return nil, errdefs.ErrNotFound.WithMessage("No such image: " + ref)
}

func (f *fakeImages) ImageIDs(ctx context.Context) []string {
	var out []string
	for r := range f.images {
		if strings.HasPrefix(r, "sha256:") {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeImages) ReadBlob(ctx context.Context, d digest.Digest) ([]byte, error) {
	p, ok := f.blobs[d]
	if !ok {
		return nil, errdefs.ErrNotFound
	}
	return os.ReadFile(p)
}

func (f *fakeImages) OpenBlob(ctx context.Context, d digest.Digest) (*os.File, error) {
	p, ok := f.blobs[d]
	if !ok {
		return nil, errdefs.ErrNotFound
	}
	return os.Open(p)
}

func (f *fakeImages) BlobSize(ctx context.Context, d digest.Digest) (int64, error) {
	p, ok := f.blobs[d]
	if !ok {
		return 0, errdefs.ErrNotFound
	}
	st, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// unreachable fails every request the mirror passes on: the tests run
// without a network.
type unreachable struct{ got []string }

func (u *unreachable) RoundTrip(req *http.Request) (*http.Response, error) {
	u.got = append(u.got, req.URL.String())
	return nil, errors.New("no network in this test")
}

// mirrorResolver is containerd's registry client (as BuildKit's puller
// uses it) with the mirror as its only host.
func mirrorResolver(m *mirror, next http.RoundTripper) *docker.ResolverOptions {
	return &docker.ResolverOptions{Hosts: func(host string) ([]docker.RegistryHost, error) {
		return []docker.RegistryHost{m.registryHost(host, next)}, nil
	}}
}

// pull resolves ref through the mirror and fetches its manifest, config
// and layers, checking each against its descriptor.
func pull(t *testing.T, opts *docker.ResolverOptions, ref string) (ocispec.Descriptor, ocispec.Manifest, [][]byte) {
	t.Helper()
	ctx := context.Background()
	r := docker.NewResolver(*opts)
	name, desc, err := r.Resolve(ctx, ref)
	if err != nil {
		t.Fatalf("resolve %s: %v", ref, err)
	}
	f, err := r.Fetcher(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	read := func(d ocispec.Descriptor) []byte {
		rc, err := f.Fetch(ctx, d)
		if err != nil {
			t.Fatalf("fetch %s: %v", d.Digest, err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		if digest.FromBytes(data) != d.Digest || int64(len(data)) != d.Size {
			t.Fatalf("fetched %s: got %d bytes of %s", d.Digest, len(data), digest.FromBytes(data))
		}
		return data
	}
	var man ocispec.Manifest
	if err := json.Unmarshal(read(desc), &man); err != nil {
		t.Fatal(err)
	}
	blobs := [][]byte{read(man.Config)}
	for _, l := range man.Layers {
		blobs = append(blobs, read(l))
	}
	return desc, man, blobs
}

func TestMirrorServesLocalImage(t *testing.T) {
	store := newFakeImages(t)
	img := store.add(t, [][]byte{[]byte("layer one"), []byte("layer two")}, "docker.io/library/busybox:latest")
	net := &unreachable{}
	opts := mirrorResolver(newMirror(store), net)
	desc, man, blobs := pull(t, opts, "docker.io/library/busybox:latest")
	if desc.MediaType != ocispec.MediaTypeImageManifest || man.Config.Digest != img.ID {
		t.Errorf("manifest %s of config %s, want an OCI manifest of %s", desc.MediaType, man.Config.Digest, img.ID)
	}
	if string(blobs[1]) != "layer one" || string(blobs[2]) != "layer two" || man.Layers[0].MediaType != ocispec.MediaTypeImageLayer {
		t.Errorf("layers %q as %s", blobs[1:], man.Layers[0].MediaType)
	}
	// the manifest is there by digest too, as a registry's
	if got, _, _ := pull(t, opts, "docker.io/library/busybox@"+desc.Digest.String()); got.Digest != desc.Digest {
		t.Errorf("by digest: %s, want %s", got.Digest, desc.Digest)
	}
	// and after a restart (a new mirror), found among the local images
	if got, _, _ := pull(t, mirrorResolver(newMirror(store), net), "docker.io/library/busybox@"+desc.Digest.String()); got.Digest != desc.Digest {
		t.Errorf("by digest, new mirror: %s, want %s", got.Digest, desc.Digest)
	}
	if len(net.got) != 0 {
		t.Errorf("the mirror reached the network: %q", net.got)
	}
}

// TestMirrorServedImageID: the classic build shows a FROM's local image by
// its id, found from the manifest the mirror served for it.
func TestMirrorServedImageID(t *testing.T) {
	store := newFakeImages(t)
	img := store.add(t, [][]byte{[]byte("a layer")}, "docker.io/library/busybox:latest")
	m := newMirror(store)
	desc, _, _ := pull(t, mirrorResolver(m, &unreachable{}), "docker.io/library/busybox:latest")
	if id, ok := m.servedImageID(desc.Digest); !ok || id != img.ID {
		t.Errorf("servedImageID(%s) = %s, %v; want %s", desc.Digest, id, ok, img.ID)
	}
	if id, ok := m.servedImageID(digest.FromString("not served")); ok {
		t.Errorf("servedImageID of a manifest never served = %s", id)
	}
}

func TestMirrorKeepsPulledManifest(t *testing.T) {
	store := newFakeImages(t)
	img := store.add(t, [][]byte{[]byte("pulled layer")}, "registry.test:5000/app:v1")
	man := ocispec.Manifest{
		MediaType: "application/vnd.docker.distribution.manifest.v2+json",
		Config:    ocispec.Descriptor{MediaType: "application/vnd.docker.container.image.v1+json", Digest: img.ID, Size: int64(len(img.Config))},
		Layers:    []ocispec.Descriptor{{MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", Digest: img.Layers[0].Blob, Size: img.Layers[0].BlobSize}},
	}
	man.SchemaVersion = 2
	raw, _ := json.MarshalIndent(man, "", "   ")
	md := store.blob(t, raw)
	img.Manifests = []image.KnownManifest{{Digest: md, MediaType: man.MediaType, Size: int64(len(raw))}}
	desc, _, _ := pull(t, mirrorResolver(newMirror(store), &unreachable{}), "registry.test:5000/app:v1")
	if desc.Digest != md || desc.MediaType != man.MediaType {
		t.Errorf("served %s (%s), want the pulled manifest %s byte for byte", desc.Digest, desc.MediaType, md)
	}
}

func TestMirrorMissesFallThrough(t *testing.T) {
	store := newFakeImages(t)
	store.add(t, [][]byte{[]byte("x")}, "docker.io/library/busybox:latest")
	net := &unreachable{}
	r := docker.NewResolver(*mirrorResolver(newMirror(store), net))
	_, _, err := r.Resolve(context.Background(), "docker.io/library/alpine:latest")
	if !errdefs.IsNotFound(err) {
		t.Errorf("resolve a missing image: %v, want not found (so the next host is tried)", err)
	}
	if _, _, err := r.Resolve(context.Background(), "docker.io/library/busybox@sha256:"+strings.Repeat("0", 64)); !errdefs.IsNotFound(err) {
		t.Errorf("resolve a missing digest: %v, want not found", err)
	}
	// requests that are not the mirror's (a token server) go to the network
	tr := &mirrorTransport{m: newMirror(store), host: "docker.io", next: net}
	req, _ := http.NewRequest(http.MethodGet, "https://auth.docker.io/token?scope=x", nil)
	if _, err := tr.RoundTrip(req); err == nil || len(net.got) != 1 {
		t.Errorf("a token request was not passed on: %v %q", err, net.got)
	}
	// and the mirror is read-only
	req, _ = http.NewRequest(http.MethodPut, "http://docker.io/v2/library/busybox/manifests/latest", nil)
	if resp, _ := tr.RoundTrip(req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT answered %d", resp.StatusCode)
	}
}

func TestMirrorForcePullResolvesAtRegistry(t *testing.T) {
	store := newFakeImages(t)
	store.add(t, [][]byte{[]byte("x")}, "docker.io/library/busybox:latest")
	net := &unreachable{}
	opts := mirrorResolver(newMirror(store), net)
	desc, _, _ := pull(t, opts, "docker.io/library/busybox:latest")
	ctx := context.WithValue(context.Background(), forcePullKey{}, true)
	if _, _, err := docker.NewResolver(*opts).Resolve(ctx, "docker.io/library/busybox:latest"); !errdefs.IsNotFound(err) {
		t.Errorf("--pull resolved a tag locally: %v", err)
	}
	// content pinned by digest is still served: the same bytes
	if _, got, err := docker.NewResolver(*opts).Resolve(ctx, "docker.io/library/busybox@"+desc.Digest.String()); err != nil || got.Digest != desc.Digest {
		t.Errorf("--pull by digest: %v %v", got.Digest, err)
	}
}
