//go:build linux

package integration

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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

// hitsBinary is the compose tests' application (testdata/compose/app), a
// static binary built once per test process.
func hitsBinary(t testing.TB) string {
	t.Helper()
	return staticBinary(t, "compose/app")
}

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

// nextCompose is the client after c in composeClients that is available
// here, c itself when no other is.
func nextCompose(t *testing.T, c composeCLI) composeCLI {
	t.Helper()
	i := slices.IndexFunc(composeClients, func(cc composeClient) bool { return cc.name == c.name })
	for k := 1; k < len(composeClients); k++ {
		next := composeClients[(i+k)%len(composeClients)]
		if _, err := next.cmd(c.d, t.TempDir(), "version"); err == nil {
			return composeCLI{composeClient: next, d: c.d}
		}
	}
	return c
}

// cleanupProject takes project p down with its volumes when t ends, unless
// the test left none of its containers, networks or volumes.
func cleanupProject(t *testing.T, c composeCLI, dir, p string) {
	t.Helper()
	t.Cleanup(func() {
		if len(projectLeftovers(t, c.d, p)) == 0 {
			return
		}
		if r := c.run(t, dir, "-p", p, "down", "-v", "-t", "1"); r.ExitCode != 0 {
			t.Logf("clean up project %s: %s", p, r)
		}
	})
}

// wantHit asks the client for web's published port and checks its answer
// there (wantHitAt); it returns the address.
func wantHit(t *testing.T, c composeCLI, dir, p, greeting string, count int) string {
	t.Helper()
	addr := c.ok(t, dir, "-p", p, "port", "web", "8000")
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("port web 8000 = %q, want 127.0.0.1:<port>", addr)
	}
	wantHitAt(t, addr, greeting, count)
	return addr
}

// wantHitAt GETs web at addr until it answers (store may still be starting
// after a re-create) and checks the greeting and the count.
func wantHitAt(t *testing.T, addr, greeting string, count int) {
	t.Helper()
	var body string
	waitFor(t, 10*time.Second, "web on "+addr+" to answer 200", func() bool {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = strings.TrimSpace(string(b))
		return resp.StatusCode == http.StatusOK
	})
	want := regexp.MustCompile("^" + greeting + ` from \S+: seen ` + strconv.Itoa(count) + ` times$`)
	if !want.MatchString(body) {
		t.Errorf("GET %s = %q, want %s", addr, body, want)
	}
}

// serviceIDs are the IDs of service's containers in project p, found by
// their compose labels.
func serviceIDs(t *testing.T, d *testutil.Daemon, p, service string) []string {
	t.Helper()
	ids := strings.Fields(d.Berth(t, "ps", "-q", "--filter", "label=com.docker.compose.project="+p,
		"--filter", "label=com.docker.compose.service="+service).Success(t).Out())
	slices.Sort(ids)
	return ids
}

// answerHosts is the set of host names in web's answers.
func answerHosts(t *testing.T, answers string) []string {
	t.Helper()
	var hosts []string
	for _, line := range strings.Split(answers, "\n") {
		_, rest, ok := strings.Cut(line, " from ")
		host, _, ok2 := strings.Cut(rest, ":")
		if !ok || !ok2 {
			t.Fatalf("fetch printed %q, not an answer of web", line)
		}
		if !slices.Contains(hosts, host) {
			hosts = append(hosts, host)
		}
	}
	return hosts
}

// projectLeftovers lists what berth still has of project p: containers,
// networks and volumes by label or name, as "berth <command>: <IDs>".
func projectLeftovers(t *testing.T, d *testutil.Daemon, p string) []string {
	t.Helper()
	label := "label=com.docker.compose.project=" + p
	var left []string
	for _, what := range [][]string{
		{"ps", "-a", "-q", "--filter", label},
		{"network", "ls", "-q", "--filter", label},
		{"volume", "ls", "-q", "--filter", label},
		{"network", "ls", "-q", "--filter", "name=" + p},
		{"volume", "ls", "-q", "--filter", "name=" + p},
	} {
		if ids := d.Berth(t, what...).Success(t).Out(); ids != "" {
			left = append(left, "berth "+strings.Join(what, " ")+": "+strings.Join(strings.Fields(ids), " "))
		}
	}
	return left
}

// inspectNetwork is the ID of network.
func inspectNetwork(t *testing.T, d *testutil.Daemon, network string) string {
	t.Helper()
	return d.Berth(t, "network", "inspect", "-f", "{{.Id}}", network).Success(t).Out()
}

// wantNoProject fails t if any container, network or volume of project
// p is left, or the kernel state of its network networkID: the bridge and
// its veths (berth marks them with an alias naming the network or the
// endpoint) and the bridge's firewall rules.
func wantNoProject(t *testing.T, d *testutil.Daemon, p, networkID string) {
	t.Helper()
	if left := projectLeftovers(t, d, p); len(left) != 0 {
		t.Errorf("left after down -v:\n%s", strings.Join(left, "\n"))
	}
	bridge := "br-" + networkID[:12]
	links, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range strings.Split(string(links), "\n") {
		if strings.Contains(link, networkID) || strings.Contains(link, " "+bridge+":") || strings.Contains(link, "master "+bridge+" ") {
			t.Errorf("link of %s_default left after down -v: %s", p, link)
		}
	}
	if rules, _ := exec.Command("nft", "list", "table", "ip", d.Net.Table).Output(); strings.Contains(string(rules), bridge) {
		t.Errorf("firewall rules of %s left after down -v:\n%s", bridge, rules)
	}
}

// sameIDs reports whether a and b hold the same container IDs, full or
// short.
func sameIDs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y string) bool { return strings.HasPrefix(x, y) || strings.HasPrefix(y, x) }) {
			return false
		}
	}
	return true
}
