//go:build linux

package integration

import (
	"context"
	"net"
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
func solveDockerfile(t *testing.T, c *bkclient.Client, dir string, attrs map[string]string) solved {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
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
		FrontendAttrs: map[string]string{"filename": "Dockerfile"},
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
	again := solveDockerfile(t, c, dir, map[string]string{"name": name})
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
