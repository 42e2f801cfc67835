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

// stackCompose is the tutorial's stack: web, built from the project's
// Dockerfile, counts its hits in store, a key-value server keeping them in
// a named volume; web starts once store's healthcheck passes and is
// published on an ephemeral 127.0.0.1 port. GREETING comes from the
// project's .env when it sets one.
const stackCompose = `services:
  web:
    build: .
    command: ["web"]
    environment:
      GREETING: ${GREETING:-Hello}
    ports:
      - "127.0.0.1::8000"
    depends_on:
      store:
        condition: service_healthy
  store:
    build: .
    command: ["store"]
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "/hits", "ping", "127.0.0.1:6379"]
      interval: 1s
      timeout: 2s
      retries: 20
volumes:
  data:
`

// TestComposeStack is the tutorial's Compose chapter with each client:
// build and bring up the stack, reach it over HTTP, scale web to 3 and see
// DNS round-robin spread requests, re-create web after an env change and
// store by force with the counter's volume data intact, then down -v
// leaves nothing of the project behind.
func TestComposeStack(t *testing.T) {
	d := sharedDaemon(t)
	eachCompose(t, d, func(t *testing.T, c composeCLI) {
		dir := composeProject(t, map[string]string{"compose.yaml": stackCompose}, true)
		p := unique("stack")
		cleanupProject(t, c, dir, p)
		c.ok(t, dir, "-p", p, "up", "-d", "--build")
		wantStartedHealthy(t, d, c.container(p, "web", 1), c.container(p, "store", 1))
		wantHit(t, c, dir, p, "Hello", 1)
		network := inspectNetwork(t, d, p+"_default")

		c.ok(t, dir, "-p", p, "up", "-d", "--scale", "web=3")
		if got := c.ok(t, dir, "-p", p, "ps", "-q", "web"); len(strings.Fields(got)) != 3 {
			t.Fatalf("ps -q web after --scale web=3:\n%s", got)
		}
		answers := c.ok(t, dir, "-p", p, "run", "--rm", "--no-deps", "-T", "web", "fetch", "http://web:8000/", "12")
		hosts := answerHosts(t, answers)
		if len(hosts) < 2 {
			t.Errorf("12 requests to web, each after its own DNS lookup, all went to %v:\n%s", hosts, answers)
		} else if len(hosts) < 3 {
			t.Logf("DNS round-robin reached %d of 3 replicas: %v", len(hosts), hosts)
		}

		web, store := serviceIDs(t, d, p, "web"), serviceIDs(t, d, p, "store")
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("GREETING=Howdy\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c.ok(t, dir, "-p", p, "up", "-d") // web re-created (and back to 1 replica), store kept
		if got := serviceIDs(t, d, p, "store"); !slices.Equal(got, store) {
			t.Errorf("store was re-created (%v, was %v) though its configuration did not change", got, store)
		}
		if got := serviceIDs(t, d, p, "web"); len(got) != 1 || slices.Contains(web, got[0]) {
			t.Errorf("web is %v after GREETING changed, was %v: want one new container", got, web)
		}
		addr := wantHit(t, c, dir, p, "Howdy", 2+12)
		c.ok(t, dir, "-p", p, "up", "-d", "--force-recreate", "store")
		if got := serviceIDs(t, d, p, "store"); len(got) != 1 || got[0] == store[0] {
			t.Errorf("up --force-recreate store: store is %v, was %v", got, store)
		}
		wantHitAt(t, addr, "Howdy", 3+12)

		c.ok(t, dir, "-p", p, "down", "-v")
		wantNoProject(t, d, p, network)
	})
}

// TestComposeCrossClient: a project brought up by one client is listed,
// stopped, brought up again (converged, its volume kept) and taken down by
// another, whatever names the first gave its containers (1.29 names them
// project_service_1, v5 project-service-1): every client finds a
// project's containers by their labels.
func TestComposeCrossClient(t *testing.T) {
	d := sharedDaemon(t)
	files := map[string]string{"compose.yaml": `services:
  a:
    image: busybox:latest
    command: ["sh", "-c", "hostname >>/data/starts; exec sleep 300"]
    init: true
    volumes:
      - data:/data
  b:
    image: busybox:latest
    command: ["sleep", "300"]
    init: true
volumes:
  data:
`}
	eachCompose(t, d, func(t *testing.T, up composeCLI) {
		other := nextCompose(t, up)
		t.Logf("up with %s, then ls, ps, stop, up and down with %s", up.name, other.name)
		dir := composeProject(t, files, false)
		p := unique("cross")
		cleanupProject(t, up, dir, p)
		up.ok(t, dir, "-p", p, "up", "-d")
		ids := strings.Fields(up.ok(t, dir, "-p", p, "ps", "-q"))
		if len(ids) != 2 {
			t.Fatalf("%s ps -q after up: %v", up.name, ids)
		}
		network := inspectNetwork(t, d, p+"_default")

		if !other.v1 { // docker-compose 1.29 has no ls
			if ls := other.ok(t, dir, "ls"); !regexp.MustCompile(`(?m)^` + p + `\s+running\(2\)`).MatchString(ls) {
				t.Errorf("%s ls does not list %s as running(2):\n%s", other.name, p, ls)
			}
		}
		ps := other.ok(t, dir, "-p", p, "ps")
		for _, svc := range []string{"a", "b"} {
			if name := up.container(p, svc, 1); !strings.Contains(ps, name) {
				t.Errorf("%s ps does not list %s:\n%s", other.name, name, ps)
			}
		}
		if got := strings.Fields(other.ok(t, dir, "-p", p, "ps", "-q")); !sameIDs(got, ids) {
			t.Errorf("%s ps -q = %v, want %v", other.name, got, ids)
		}

		other.ok(t, dir, "-p", p, "stop", "-t", "1")
		for _, id := range ids {
			if running := inspect(t, d, id, "{{.State.Running}}"); running != "false" {
				t.Errorf("container %s still running after %s stop", id, other.name)
			}
		}
		other.ok(t, dir, "-p", p, "up", "-d")
		if got := serviceIDs(t, d, p, "a"); len(got) != 1 {
			t.Errorf("service a after %s up: %v", other.name, got)
		} else if starts := d.Berth(t, "exec", got[0], "cat", "/data/starts").Success(t).Out(); len(strings.Fields(starts)) != 2 {
			t.Errorf("the volume of a, started by %s then %s, holds:\n%s\nwant two starts", up.name, other.name, starts)
		}
		other.ok(t, dir, "-p", p, "down", "-v")
		wantNoProject(t, d, p, network)
	})
}

// wantStartedHealthy checks that container waited for dependency's
// healthcheck (depends_on: condition: service_healthy): the first check runs
// an interval (1s) after the dependency starts, so container cannot have
// started sooner than that.
func wantStartedHealthy(t *testing.T, d *testutil.Daemon, container, dependency string) {
	t.Helper()
	if health := inspect(t, d, dependency, "{{.State.Health.Status}}"); health != "healthy" {
		t.Errorf("%s is %q after up, want healthy", dependency, health)
	}
	started := func(name string) time.Time {
		at, err := time.Parse(time.RFC3339Nano, inspect(t, d, name, "{{.State.StartedAt}}"))
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	if gap := started(container).Sub(started(dependency)); gap < 900*time.Millisecond {
		t.Errorf("%s started %s after %s, before its first healthcheck (depends_on: service_healthy)", container, gap, dependency)
	}
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
