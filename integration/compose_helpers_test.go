//go:build linux

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

// composeClient is one of the compose clients every compose test drives
// berthd with: berth compose, the compose v5 binary (with and without
// buildx as a plugin) and Debian's docker-compose 1.29.
type composeClient struct {
	name string
	// v1 is docker-compose 1.29: containers are <project>_<service>_<n>,
	// and it has no --wait, no watch and no `compose ls`.
	v1 bool
	// cmd is the client's command in dir against d.
	cmd func(d *testutil.Daemon, dir string, args ...string) (*exec.Cmd, error)
}

// composeClients are the compose clients, in the order the tests run them.
var composeClients = []composeClient{
	{name: "berth", cmd: func(d *testutil.Daemon, dir string, args ...string) (*exec.Cmd, error) {
		return d.BerthComposeCmd(dir, args...), nil
	}},
	{name: "v5", cmd: func(d *testutil.Daemon, dir string, args ...string) (*exec.Cmd, error) {
		return d.ComposeV5Cmd(dir, false, args...)
	}},
	{name: "v5-buildx", cmd: func(d *testutil.Daemon, dir string, args ...string) (*exec.Cmd, error) {
		return d.ComposeV5Cmd(dir, true, args...)
	}},
	{name: "1.29", v1: true, cmd: func(d *testutil.Daemon, dir string, args ...string) (*exec.Cmd, error) {
		return d.Compose129Cmd(dir, args...)
	}},
}

// eachCompose runs f as a subtest per compose client; a client that
// cannot run here skips its subtest with the reason (on CI, `make test`
// builds or installs every one of them beforehand).
func eachCompose(t *testing.T, d *testutil.Daemon, f func(t *testing.T, c composeCLI)) {
	t.Helper()
	for _, cc := range composeClients {
		t.Run(cc.name, func(t *testing.T) {
			if _, err := cc.cmd(d, t.TempDir(), "version"); err != nil {
				t.Skipf("compose client %s is not available: %v", cc.name, err)
			}
			f(t, composeCLI{composeClient: cc, d: d})
		})
	}
}

// composeCLI is a compose client aimed at one daemon.
type composeCLI struct {
	composeClient
	d *testutil.Daemon
}

// run runs the client in dir with args.
func (c composeCLI) run(t testing.TB, dir string, args ...string) *testutil.Result {
	t.Helper()
	cmd, err := c.cmd(c.d, dir, args...)
	if err != nil {
		t.Fatalf("compose client %s: %v", c.name, err)
	}
	return testutil.Run(t, cmd, nil)
}

// ok runs the client in dir, fails t unless it exits 0, and returns its
// trimmed stdout.
func (c composeCLI) ok(t testing.TB, dir string, args ...string) string {
	t.Helper()
	return c.run(t, dir, args...).Success(t).Out()
}

// container is the name the client gives replica n of service in project.
func (c composeCLI) container(project, service string, n int) string {
	sep := "-"
	if c.v1 {
		sep = "_"
	}
	return project + sep + service + sep + strconv.Itoa(n)
}

var hitsOnce struct {
	once sync.Once
	path string
	err  error
}

// hitsBinary is the compose tests' application (testdata/compose/app), a
// static binary built once per test process.
func hitsBinary(t testing.TB) string {
	t.Helper()
	hitsOnce.once.Do(func() {
		dir, err := os.MkdirTemp("", "berth-hits-")
		if err != nil {
			hitsOnce.err = err
			return
		}
		hitsOnce.path = filepath.Join(dir, "hits")
		cmd := exec.Command("go", "build", "-o", hitsOnce.path, ".")
		cmd.Dir = filepath.Join("testdata", "compose", "app")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			hitsOnce.err = &buildError{err: err, out: string(out)}
		}
	})
	if hitsOnce.err != nil {
		t.Fatalf("build the compose test app: %v", hitsOnce.err)
	}
	return hitsOnce.path
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// composeProject writes a compose project into a new folder: files (a
// compose file among them) and, when app, the hits binary with a
// Dockerfile (FROM scratch, ENTRYPOINT ["/hits"]) to build it.
func composeProject(t *testing.T, files map[string]string, app bool) string {
	t.Helper()
	dir := t.TempDir()
	if app {
		bin, err := os.ReadFile(hitsBinary(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "hits"), bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, ok := files["Dockerfile"]; !ok {
			files["Dockerfile"] = "FROM scratch\nCOPY hits /hits\nENTRYPOINT [\"/hits\"]\n"
		}
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
