//go:build linux

package integration

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/moby/moby/client"

	"github.com/berth-project/berth/internal/testutil"
)

// regCLI runs berth (with a private config folder, so ~/.berth is never
// touched) or the docker CLI (whose config folder testutil makes private).
type regCLI struct {
	cli
	berthConfig string
}

func newRegCLI(t *testing.T, c cli) regCLI {
	return regCLI{cli: c, berthConfig: t.TempDir()}
}

func (c regCLI) command(args ...string) *exec.Cmd {
	cmd := c.cmd(args...)
	if c.name == "berth" {
		cmd.Env = append(cmd.Env, "BERTH_CONFIG="+c.berthConfig)
	}
	return cmd
}

func (c regCLI) run(t testing.TB, args ...string) *testutil.Result {
	t.Helper()
	return testutil.Run(t, c.command(args...), nil)
}

func (c regCLI) runStdin(t testing.TB, stdin string, args ...string) *testutil.Result {
	t.Helper()
	return testutil.Run(t, c.command(args...), strings.NewReader(stdin))
}

func (c regCLI) ok(t testing.TB, args ...string) string {
	t.Helper()
	return c.run(t, args...).Success(t).Out()
}

// configFile is the CLI's config.json.
func (c regCLI) configFile() string {
	if c.name == "berth" {
		return filepath.Join(c.berthConfig, "config.json")
	}
	return filepath.Join(c.d.Root, "docker-config", "config.json")
}

// layerTar is a one-file layer whose content no other test uses.
func layerTar(t testing.TB, name string, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(size), ModTime: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var pushDigest = regexp.MustCompile(`(?m)^(\S+): digest: (sha256:[0-9a-f]{64}) size: (\d+)$`)

// pushedDigest returns the digest docker's closing push line reports.
func pushedDigest(t testing.TB, out string) string {
	t.Helper()
	m := pushDigest.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no digest line in push output:\n%s", out)
	}
	return m[2]
}

// registryDigest asks the registry which manifest digest a tag has.
func registryDigest(t testing.TB, r *testutil.Registry, repoPath, tag string) string {
	t.Helper()
	return registryDigestAccepting(t, r, repoPath, tag,
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json")
}

// registryDigestAccepting asks the registry, with a HEAD accepting the
// media types accept, which digest a tag has.
func registryDigestAccepting(t testing.TB, r *testutil.Registry, repoPath, tag string, accept ...string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodHead, r.URL()+"/v2/"+repoPath+"/manifests/"+tag, nil)
	req.Header.Set("Accept", strings.Join(accept, ", "))
	if r.User != "" {
		req.SetBasicAuth(r.User, r.Pass)
	}
	resp, err := r.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registry HEAD %s:%s: %s", repoPath, tag, resp.Status)
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// TestRegistryPushPullRun is the tutorial's flow against a plain HTTP
// registry: tag, push, remove, run again (pulling), with berth and docker.
func TestRegistryPushPullRun(t *testing.T) {
	reg := testutil.StartRegistry(t)
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c0 cli) {
		c := newRegCLI(t, c0)
		path := unique("tutorial")
		repo := reg.Host + "/" + path
		// An image with a layer of its own, so the pull really downloads.
		c.runStdin(t, string(layerTar(t, "payload.bin", 300_000)), "import", "-", repo+":v1").Success(t)
		out := c.ok(t, "push", repo+":v1")
		for _, want := range []string{"The push refers to repository [" + repo + "]", ": Pushed", "v1: digest: sha256:"} {
			if !strings.Contains(out, want) {
				t.Errorf("push output lacks %q:\n%s", want, out)
			}
		}
		dgst := pushedDigest(t, out)
		if got := registryDigest(t, reg, path, "v1"); got != dgst {
			t.Errorf("registry has %s for v1, push said %s", got, dgst)
		}
		out = c.ok(t, "push", repo+":v1")
		if !strings.Contains(out, "Layer already exists") || pushedDigest(t, out) != dgst {
			t.Errorf("second push:\n%s", out)
		}

		c.ok(t, "rmi", repo+":v1")
		out = c.ok(t, "pull", repo+":v1")
		for _, want := range []string{"v1: Pulling from " + path, "Pull complete", "Digest: " + dgst, "Status: Downloaded newer image for " + repo + ":v1"} {
			if !strings.Contains(out, want) {
				t.Errorf("pull output lacks %q:\n%s", want, out)
			}
		}
		out = c.ok(t, "pull", repo+":v1")
		if !strings.Contains(out, "Status: Image is up to date for "+repo+":v1") {
			t.Errorf("second pull:\n%s", out)
		}
		if got := c.ok(t, "image", "inspect", "-f", "{{json .RepoDigests}}", repo+":v1"); !strings.Contains(got, repo+"@"+dgst) {
			t.Errorf("RepoDigests: %s", got)
		}
		if got := c.ok(t, "images", "--digests", repo); !strings.Contains(got, dgst) {
			t.Errorf("images --digests:\n%s", got)
		}

		// A pulled image pushes byte for byte: same manifest digest.
		path2 := unique("copy")
		c.ok(t, "tag", repo+":v1", reg.Host+"/"+path2+":v1")
		out = c.ok(t, "push", reg.Host+"/"+path2+":v1")
		if got := pushedDigest(t, out); got != dgst {
			t.Errorf("re-push of a pulled image: digest %s, want %s\n%s", got, dgst, out)
		}
		if !strings.Contains(out, "Mounted from "+path) && !strings.Contains(out, "Layer already exists") {
			t.Errorf("re-push should mount the layer:\n%s", out)
		}

		// The tutorial: tag, push, remove, run (which pulls).
		c.ok(t, "rmi", reg.Host+"/"+path2+":v1")
		app := reg.Host + "/" + unique("app") + ":part2"
		c.ok(t, "tag", "busybox", app)
		c.ok(t, "push", app)
		c.ok(t, "rmi", app)
		res := c.run(t, "run", "--rm", app, "echo", "hello from the registry")
		res.Success(t)
		// busybox:latest is the same image, so, as with docker, no layer is fetched.
		if !strings.Contains(res.Stderr, "Unable to find image '"+app+"' locally") || !strings.Contains(res.Stderr, "Status: Downloaded newer image for "+app) || res.Out() != "hello from the registry" {
			t.Errorf("run of a missing image: %s", res)
		}
		c.ok(t, "rmi", app)
		// By digest, and rmi by digest.
		c.ok(t, "rmi", repo+":v1")
		out = c.ok(t, "pull", repo+"@"+dgst)
		if !strings.Contains(out, "Status: Downloaded newer image for "+repo+"@"+dgst) {
			t.Errorf("pull by digest:\n%s", out)
		}
		c.ok(t, "rmi", repo+"@"+dgst)
		if res := c.run(t, "image", "inspect", repo+"@"+dgst); res.ExitCode == 0 {
			t.Errorf("image still there after rmi by digest")
		}
	})
}

// TestRegistryPullErrors checks docker's messages for what cannot be
// pulled, and that nothing is left behind.
func TestRegistryPullErrors(t *testing.T) {
	reg := testutil.StartRegistry(t)
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c0 cli) {
		c := newRegCLI(t, c0)
		missing := reg.Host + "/" + unique("missing")
		res := c.run(t, "pull", missing+":v1")
		res.Fails(t, 1, "Error response from daemon: ", missing+":v1 not found: manifest unknown")

		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().String()
		l.Close()
		c.run(t, "pull", closed+"/x:v1").Fails(t, 1, "connection refused")
		c.run(t, "pull", "a@@b").Fails(t, 1, "invalid reference format")
		c.run(t, "pull", "UPPER/case").Fails(t, 1, "repository can only contain the characters")
	})
}

// TestRegistryCorruptBlob serves a layer whose bytes do not match its
// digest: the pull fails naming it and keeps nothing.
func TestRegistryCorruptBlob(t *testing.T) {
	reg := testutil.StartRegistry(t)
	d := ownDaemon(t)
	c := newRegCLI(t, cli{name: "berth", d: d})
	path := unique("corrupt")
	repo := reg.Host + "/" + path
	c.runStdin(t, string(layerTar(t, "data.bin", 200_000)), "import", "-", repo+":v1").Success(t)
	c.ok(t, "push", repo+":v1")
	c.ok(t, "rmi", repo+":v1")

	// The registry stores the layer gzipped: find its blob from the manifest.
	blob := manifestLayer(t, reg, path, "v1")
	p := reg.BlobPath(blob)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	before := blobsOf(t, d)
	c.run(t, "pull", repo+":v1").Fails(t, 1, "filesystem layer verification failed for digest "+blob)
	if res := c.run(t, "image", "inspect", repo+":v1"); res.ExitCode == 0 {
		t.Errorf("a corrupt pull left an image")
	}
	after := blobsOf(t, d)
	for b := range after {
		if !before[b] {
			t.Errorf("a corrupt pull left blob %s", b)
		}
	}
}

// manifestLayer returns the first layer digest of a manifest.
func manifestLayer(t testing.TB, r *testutil.Registry, repoPath, tag string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.URL()+"/v2/"+repoPath+"/manifests/"+tag, nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	if r.User != "" {
		req.SetBasicAuth(r.User, r.Pass)
	}
	resp, err := r.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Layers []struct{ Digest string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || len(m.Layers) == 0 {
		t.Fatalf("manifest %s:%s: %v", repoPath, tag, err)
	}
	return m.Layers[0].Digest
}

// blobsOf lists the daemon's content store.
func blobsOf(t testing.TB, d *testutil.Daemon) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(d.DataRoot, "content", "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		out["sha256:"+e.Name()] = true
	}
	return out
}

// TestRegistryTLSLogin uses a registry serving HTTPS with a certificate
// from a CA made here (trusted through --certs-dir) and htpasswd auth.
func TestRegistryTLSLogin(t *testing.T) {
	reg := testutil.StartRegistry(t, testutil.WithRegistryTLS(), testutil.WithRegistryAuth("tester", "s3cret"))
	certs, err := reg.CertsDir()
	if err != nil {
		t.Fatal(err)
	}
	d := testutil.StartDaemon(t, testutil.WithArgs("--certs-dir", certs))
	d.LoadBusybox(t)
	eachCLI(t, d, func(t *testing.T, c0 cli) {
		c := newRegCLI(t, c0)
		path := unique("private")
		repo := reg.Host + "/" + path
		c.ok(t, "tag", "busybox", repo+":v1")
		res := c.run(t, "push", repo+":v1")
		if res.ExitCode == 0 || !strings.Contains(res.Combined(), "no basic auth credentials") {
			t.Errorf("push without login: %s", res)
		}
		res = c.run(t, "login", "-u", "tester", "-p", "wrong", reg.Host)
		res.Fails(t, 1, "Error response from daemon: login attempt to https://"+reg.Host+"/v2/ failed with status: 401 Unauthorized")
		if data, err := os.ReadFile(c.configFile()); err == nil && strings.Contains(string(data), reg.Host) {
			t.Errorf("a failed login stored credentials:\n%s", data)
		}
		res = c.runStdin(t, "s3cret\n", "login", "-u", "tester", "--password-stdin", reg.Host)
		res.Success(t)
		if !strings.Contains(res.Stdout, "Login Succeeded") {
			t.Errorf("login: %s", res)
		}
		data, err := os.ReadFile(c.configFile())
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Auths map[string]struct{ Auth string }
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			t.Fatal(err)
		}
		if got := cfg.Auths[reg.Host].Auth; got != base64.StdEncoding.EncodeToString([]byte("tester:s3cret")) {
			t.Errorf("stored auth %q in\n%s", got, data)
		}
		out := c.ok(t, "push", repo+":v1")
		dgst := pushedDigest(t, out)
		if got := registryDigest(t, reg, path, "v1"); got != dgst {
			t.Errorf("registry digest %s, pushed %s", got, dgst)
		}
		c.ok(t, "rmi", repo+":v1")
		out = c.ok(t, "pull", repo+":v1")
		if !strings.Contains(out, "Digest: "+dgst) {
			t.Errorf("pull:\n%s", out)
		}
		out = c.ok(t, "logout", reg.Host)
		if !strings.Contains(out, "Removing login credentials for "+reg.Host) {
			t.Errorf("logout: %q", out)
		}
		c.ok(t, "rmi", repo+":v1")
		if res := c.run(t, "pull", repo+":v1"); res.ExitCode == 0 {
			t.Errorf("pull after logout worked: %s", res)
		}
	})
	// berth falls back to docker's credentials.
	t.Run("docker-config", func(t *testing.T) {
		testutil.RequiresDockerCLI(t)
		docker := newRegCLI(t, cli{name: "docker", d: d})
		docker.runStdin(t, "s3cret\n", "login", "-u", "tester", "--password-stdin", reg.Host).Success(t)
		berth := newRegCLI(t, cli{name: "berth", d: d})
		repo := reg.Host + "/" + unique("fallback")
		berth.ok(t, "tag", "busybox", repo+":v1")
		berth.ok(t, "push", repo+":v1")
	})
}

// throttledProxy forwards TCP connections to target at about rate bytes
// per second, so a test can act in the middle of a transfer.
func throttledProxy(t *testing.T, target string, rate int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(out, in)
				out.Close()
			}()
			go func() {
				defer wg.Done()
				defer in.Close()
				buf := make([]byte, 32<<10)
				for {
					select {
					case <-done:
						return
					default:
					}
					n, err := out.Read(buf)
					if n > 0 {
						if _, werr := in.Write(buf[:n]); werr != nil {
							return
						}
						time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestRegistryPullKilled kills berthd in the middle of a pull: nothing is
// visible after the restart, and the next pull reuses the layers that were
// complete.
func TestRegistryPullKilled(t *testing.T) {
	reg := testutil.StartRegistry(t)
	d := ownDaemon(t)
	c := newRegCLI(t, cli{name: "berth", d: d})
	path := unique("big")
	// A small base layer completes long before the big ones.
	pushRandomImage(t, reg.Host+"/"+path+":v1", 256<<10, 16<<20, 16<<20, 16<<20)

	// Through a proxy at 4 MB/s per connection the pull takes seconds.
	slow := throttledProxy(t, reg.Host, 4<<20)
	repo := slow + "/" + path
	cmd := c.command("pull", repo+":v1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "a layer to complete", func() bool { return strings.Contains(out.String(), "Pull complete") })
	if err := d.Kill9(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if strings.Contains(out.String(), "Status: Downloaded") {
		t.Fatalf("the pull finished before berthd was killed:\n%s", out.String())
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if res := c.run(t, "image", "inspect", repo+":v1"); res.ExitCode == 0 {
		t.Errorf("an interrupted pull left an image")
	}
	got := c.ok(t, "pull", repo+":v1")
	if !strings.Contains(got, "Status: Downloaded newer image") || !strings.Contains(got, "Already exists") {
		t.Errorf("pull after the kill should reuse the complete layers:\n%s\nfirst pull:\n%s", got, out.String())
	}
	c.ok(t, "rmi", repo+":v1")
}

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pushRandomImage writes an image with one layer of random bytes per size
// straight to a registry.
func pushRandomImage(t testing.TB, ref string, sizes ...int64) {
	t.Helper()
	img := empty.Image
	for _, size := range sizes {
		l, err := random.Layer(size, types.DockerLayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	img = mutate.MediaType(img, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

// TestRegistryDistributionInspectAndPrune covers GET /distribution and
// image prune of what pulls leave dangling.
func TestRegistryDistributionInspectAndPrune(t *testing.T) {
	reg := testutil.StartRegistry(t)
	d := ownDaemon(t)
	c := newRegCLI(t, cli{name: "berth", d: d})
	repo := reg.Host + "/" + unique("dist")
	c.runStdin(t, string(layerTar(t, "one.bin", 1000)), "import", "-", repo+":v1").Success(t)
	dgst := pushedDigest(t, c.ok(t, "push", repo+":v1"))

	res, err := d.Client(t).DistributionInspect(t.Context(), repo+":v1", client.DistributionInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.Digest.String() != dgst || len(res.Platforms) != 1 || res.Platforms[0].OS != "linux" {
		t.Errorf("distribution inspect: %+v", res.DistributionInspect)
	}
	if _, err := d.Client(t).DistributionInspect(t.Context(), repo+":nope", client.DistributionInspectOptions{}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("distribution inspect of a missing tag: %v", err)
	}

	// Re-tagging leaves the old image dangling; prune removes it.
	old := c.ok(t, "image", "inspect", "-f", "{{.Id}}", repo+":v1")
	c.runStdin(t, string(layerTar(t, "two.bin", 1000)), "import", "-", repo+":v1").Success(t)
	if got := c.ok(t, "images", "-q", "--no-trunc", "-f", "dangling=true"); !strings.Contains(got, old) {
		t.Errorf("dangling images: %q, want %s", got, old)
	}
	out := c.ok(t, "image", "prune", "-f")
	if !strings.Contains(out, "deleted: "+old) || !strings.Contains(out, "Total reclaimed space:") {
		t.Errorf("prune:\n%s", out)
	}
	out = c.ok(t, "image", "prune", "-a", "-f")
	if !strings.Contains(out, "untagged: "+repo+":v1") {
		t.Errorf("prune -a:\n%s", out)
	}
}
