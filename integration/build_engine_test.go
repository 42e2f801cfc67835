//go:build linux

package integration

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bkclient "github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"

	"github.com/berth-project/berth/internal/testutil"
)

// buildKitClient connects BuildKit's Go client to berthd as buildx's
// docker driver does: the control API over POST /grpc and sessions over
// POST /session, both hijacked with the moby client's DialHijack.
func buildKitClient(t *testing.T, d *testutil.Daemon) *bkclient.Client {
	t.Helper()
	mc := d.Client(t)
	c, err := bkclient.New(context.Background(), "",
		bkclient.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return mc.DialHijack(ctx, "/grpc", "h2c", nil)
		}),
		bkclient.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return mc.DialHijack(ctx, "/session", proto, meta)
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// solved is what a build reported: the exporter's answer and, per step
// ("[2/3] COPY ..."), whether it came from the cache.
type solved struct {
	resp   *bkclient.SolveResponse
	steps  map[string]bool
	output []string
}

// solveDockerfile builds the Dockerfile in dir (also the context) and
// exports it with the moby exporter as buildx's docker driver does.
func solveDockerfile(t *testing.T, c *bkclient.Client, dir string, attrs map[string]string, frontendAttrs ...string) solved {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	fattrs := map[string]string{"filename": "Dockerfile"}
	for i := 0; i+1 < len(frontendAttrs); i += 2 {
		fattrs[frontendAttrs[i]] = frontendAttrs[i+1]
	}
	ch := make(chan *bkclient.SolveStatus)
	out := solved{steps: map[string]bool{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for st := range ch {
			for _, v := range st.Vertexes {
				if strings.HasPrefix(v.Name, "[") && v.Completed != nil {
					out.steps[v.Name] = v.Cached
				}
			}
			for _, s := range st.Statuses {
				if s.Completed != nil {
					out.output = append(out.output, s.ID)
				}
			}
		}
	}()
	resp, err := c.Solve(ctx, nil, bkclient.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: fattrs,
		LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
		Exports:       []bkclient.ExportEntry{{Type: "moby", Attrs: attrs}},
	}, ch)
	wg.Wait()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	out.resp = resp
	return out
}

// TestBuildEngine builds FROM the local busybox with COPY and RUN through
// berthd's /grpc and /session: the image is stored and named, runs,
// survives a restart, and the same build again is all cache hits.
func TestBuildEngine(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox(t)
	dir := t.TempDir()
	token := unique("hello")
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hello.txt", token+"\n")
	write("Dockerfile", "FROM busybox\nCOPY hello.txt /hello.txt\nRUN cp /hello.txt /copy.txt && echo built > /built.txt\nCMD [\"cat\", \"/copy.txt\"]\n")
	repo := unique("engine")
	name := repo + ":v1"

	c := buildKitClient(t, d)
	res := solveDockerfile(t, c, dir, map[string]string{"name": name + "," + repo + ":v2"})
	id := res.resp.ExporterResponse["containerimage.config.digest"]
	if !strings.HasPrefix(id, "sha256:") || res.resp.ExporterResponse["containerimage.digest"] != id {
		t.Fatalf("exporter response = %v, want the image id as config and image digest", res.resp.ExporterResponse)
	}
	for _, want := range []string{"writing image " + id, "naming to docker.io/library/" + name} {
		if !contains(res.output, want) {
			t.Errorf("progress lacks %q: %q", want, res.output)
		}
	}
	for step, cached := range res.steps {
		if cached && (strings.Contains(step, "RUN") || strings.Contains(step, "COPY")) {
			t.Errorf("first build: step %q came from the cache", step)
		}
	}
	eachCLI(t, d, func(t *testing.T, cl cli) {
		if got := cl.ok(t, "image", "inspect", "-f", "{{.Id}}", name); got != id {
			t.Errorf("image inspect %s = %q, want %q", name, got, id)
		}
		if got := cl.ok(t, "images", "--filter", "reference="+repo, "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"); got != repo+":v1 "+id[7:19]+"\n"+repo+":v2 "+id[7:19] {
			t.Errorf("images = %q", got)
		}
		if got := cl.ok(t, "run", "--rm", name); got != token {
			t.Errorf("run %s printed %q, want %q", name, got, token)
		}
		if got := cl.ok(t, "run", "--rm", name, "cat", "/built.txt"); got != "built" {
			t.Errorf("the RUN step's file holds %q", got)
		}
	})
	if got := d.Berth(t, "history", "--format", "{{.CreatedBy}}", name).Success(t).Out(); !strings.Contains(got, "RUN /bin/sh -c cp /hello.txt") || !strings.Contains(got, "COPY hello.txt /hello.txt") {
		t.Errorf("history = %q", got)
	}

	d.Restart(t)
	if got := d.Berth(t, "run", "--rm", name).Success(t).Out(); got != token {
		t.Errorf("after a restart, run %s printed %q", name, got)
	}
	c = buildKitClient(t, d)
	began := time.Now()
	again := solveDockerfile(t, c, dir, map[string]string{"name": name})
	t.Logf("the cached build took %s (through /grpc, after a restart)", time.Since(began))
	began = time.Now()
	solveDockerfile(t, c, dir, map[string]string{"name": name})
	t.Logf("and once more %s", time.Since(began))
	if got := again.resp.ExporterResponse["containerimage.config.digest"]; got != id {
		t.Errorf("the same build after a restart made %s, want %s", got, id)
	}
	n := 0
	for step, cached := range again.steps {
		if strings.Contains(step, "RUN") || strings.Contains(step, "COPY") {
			n++
			if !cached {
				t.Errorf("second build: step %q was not a cache hit", step)
			}
		}
	}
	if n != 2 {
		t.Errorf("second build reported steps %v, want its COPY and RUN", again.steps)
	}

	// unnamed builds are stored too, dangling
	write("Dockerfile", "FROM busybox\nRUN echo "+token+" > /dangling.txt\n")
	dangling := solveDockerfile(t, c, dir, nil).resp.ExporterResponse["containerimage.config.digest"]
	if got := d.Berth(t, "image", "inspect", "-f", "{{.Id}} {{len .RepoTags}}", dangling).Success(t).Out(); got != dangling+" 0" {
		t.Errorf("unnamed build: image inspect = %q, want %s without tags", got, dangling)
	}
}

// TestBuildEnginePush builds with push=true to a local (insecure, plain
// HTTP) registry: the image is stored and pushed. A build FROM the pushed
// image, once it is no longer local, pulls it from the registry.
func TestBuildEnginePush(t *testing.T) {
	testutil.RequiresRegistry(t)
	reg := testutil.StartRegistry(t)
	d := testutil.StartDaemon(t)
	d.LoadBusybox(t)
	dir := t.TempDir()
	token := unique("pushed")
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN echo "+token+" > /pushed.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := reg.Host + "/" + unique("push")
	c := buildKitClient(t, d)
	res := solveDockerfile(t, c, dir, map[string]string{"name": repo + ":v1", "push": "true"})
	id := res.resp.ExporterResponse["containerimage.config.digest"]
	if got := d.Berth(t, "image", "inspect", "-f", "{{.Id}}", repo+":v1").Success(t).Out(); got != id {
		t.Errorf("pushed build stored as %q, want %q", got, id)
	}
	req, err := http.NewRequest(http.MethodGet, reg.URL()+"/v2/"+strings.TrimPrefix(repo, reg.Host+"/")+"/manifests/v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := reg.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Layers []struct{ MediaType string }
	}
	err = json.NewDecoder(resp.Body).Decode(&man)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("registry manifest of %s:v1: %d %v", repo, resp.StatusCode, err)
	}
	for _, l := range man.Layers {
		if !strings.HasSuffix(l.MediaType, "gzip") {
			t.Errorf("pushed layer of type %s, want gzip", l.MediaType)
		}
	}

	if got := d.Berth(t, "image", "inspect", "-f", "{{join .RepoDigests \",\"}}", repo+":v1").Success(t).Out(); !strings.HasPrefix(got, repo+"@sha256:") {
		t.Errorf("pushed build's repo digests = %q", got)
	}
	// the stored image pushes at once (its layers stored uncompressed are
	// compressed for it) and saves
	d.Berth(t, "tag", repo+":v1", repo+":v2").Success(t)
	d.Berth(t, "push", repo+":v2").Success(t)
	if out := d.Berth(t, "save", "-o", filepath.Join(t.TempDir(), "built.tar"), repo+":v1").Success(t); out.Out() != "" {
		t.Errorf("save printed %q", out.Out())
	}
	// Without --pull the local image is the base, with it the registry's.
	d.Berth(t, "tag", "busybox", repo+":v2").Success(t)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+repo+":v2\nRUN if [ -e /pushed.txt ]; then echo registry; else echo local; fi > /from.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, pull := range []bool{false, true} {
		name, want, attrs := unique("pullmode")+":v1", "local", []string(nil)
		if pull {
			want, attrs = "registry", []string{"image-resolve-mode", "pull"}
		}
		solveDockerfile(t, c, dir, map[string]string{"name": name}, attrs...)
		if got := d.Berth(t, "run", "--rm", name, "cat", "/from.txt").Success(t).Out(); got != want {
			t.Errorf("pull=%v: the base came from %q, want %q", pull, got, want)
		}
	}

	d.Berth(t, "rmi", repo+":v1", repo+":v2").Success(t)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+repo+":v1\nRUN cat /pushed.txt > /again.txt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := unique("frompushed") + ":v1"
	solveDockerfile(t, c, dir, map[string]string{"name": name})
	if got := d.Berth(t, "run", "--rm", name, "cat", "/again.txt").Success(t).Out(); got != token {
		t.Errorf("build FROM the pulled image: %q, want %q", got, token)
	}
}

// TestBuildEngineBuildx builds with the docker CLI and buildx's docker
// driver: `docker buildx build --load` and plain `docker build` (which the
// docker CLI 28 routes through buildx), FROM the local busybox.
func TestBuildEngineBuildx(t *testing.T) {
	testutil.RequiresDockerCLI(t)
	d := testutil.StartDaemon(t)
	d.RequiresBuildx(t)
	d.LoadBusybox(t)
	dir := t.TempDir()
	token := unique("buildx")
	if err := os.WriteFile(filepath.Join(dir, "msg"), []byte(token+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nCOPY msg /msg\nRUN cat /msg > /ran\nCMD [\"cat\", \"/ran\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"buildx", "build", "--load"}, {"build"}} {
		name := unique("bx") + ":latest"
		r := d.Docker(t, append(append(args, "-t", name), dir)...).Success(t)
		if !strings.Contains(r.Stderr, "naming to docker.io/library/"+name) {
			t.Errorf("docker %s: output lacks the naming line:\n%s", strings.Join(args, " "), r.Stderr)
		}
		if got := d.Docker(t, "run", "--rm", name).Success(t).Out(); got != token {
			t.Errorf("docker %s: the image runs %q, want %q", strings.Join(args, " "), got, token)
		}
		if got := d.Berth(t, "images", "--format", "{{.Repository}}:{{.Tag}}", strings.TrimSuffix(name, ":latest")).Success(t).Out(); got != name {
			t.Errorf("berth images = %q, want %s", got, name)
		}
	}
}
