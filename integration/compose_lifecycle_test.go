//go:build linux

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// lifecycleCompose is the lifecycle test's project: web, the hits app,
// starts once store is healthy and init, a one-shot, has written into the
// shared volume; side, a busybox loop that logs ticks and answers SIGUSR1,
// starts once web has started. The profiles hold what must fail: a
// dependency on a one-shot that exits 3, and a service that never gets
// healthy.
const lifecycleCompose = `services:
  init:
    image: busybox:latest
    command: ["sh", "-c", "echo done > /shared/x"]
    volumes: [shared:/shared]
  store:
    build: .
    command: ["store"]
    volumes: [data:/data]
    healthcheck:
      test: ["CMD", "/hits", "ping", "127.0.0.1:6379"]
      interval: 1s
      timeout: 2s
      retries: 20
  web:
    build: .
    command: ["web"]
    ports: ["127.0.0.1::8000"]
    volumes: [shared:/shared:ro]
    depends_on:
      store: {condition: service_healthy}
      init: {condition: service_completed_successfully}
  side:
    image: busybox:latest
    command: ["sh", "-c", "trap 'echo got-usr1' USR1; while true; do echo tick; sleep 1; done"]
    stop_grace_period: 1s
    volumes: [shared:/shared]
    depends_on:
      web: {condition: service_started}
  broken:
    image: busybox:latest
    command: ["sh", "-c", "exit 3"]
    profiles: [fail]
  needsbroken:
    image: busybox:latest
    command: ["true"]
    profiles: [fail]
    depends_on:
      broken: {condition: service_completed_successfully}
  sick:
    image: busybox:latest
    command: ["sleep", "60"]
    stop_grace_period: 1s
    profiles: [sick]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
volumes:
  data:
  shared:
`

// foregroundCompose is the foreground test's project: a exits 7 after a
// second, b runs until SIGTERM, which it answers by exiting 0.
const foregroundCompose = `services:
  a:
    image: busybox:latest
    command: ["sh", "-c", "echo a-start; sleep 1; echo a-end; exit 7"]
  b:
    image: busybox:latest
    command: ["sh", "-c", "trap 'echo b-term; exit 0' TERM; echo b-start; while true; do sleep 0.2; done"]
`

// lifecycleProfiles are the global flags that make every service of
// lifecycleCompose part of the project, so down takes them all.
var lifecycleProfiles = []string{"--profile", "fail", "--profile", "sick"}

// TestComposeLifecycle drives one project per client through depends_on's
// conditions (service_healthy, service_completed_successfully,
// service_started), up --wait, events (compose's and the engine's, with
// label and type filters, health_status), exec, cp, port, top, images,
// stats, pause, logs -f, kill, restart, stop/start, container rename,
// run --rm and rm -f; then a failing one-shot and a never-healthy service
// make up fail, and down -v leaves nothing.
func TestComposeLifecycle(t *testing.T) {
	d := sharedDaemon(t)
	eachCompose(t, d, func(t *testing.T, c composeCLI) {
		dir := composeProject(t, map[string]string{"compose.yaml": lifecycleCompose}, true)
		p := unique("life")
		t.Cleanup(func() {
			if len(projectLeftovers(t, d, p)) != 0 {
				c.run(t, dir, append(append([]string{"-p", p}, lifecycleProfiles...), "down", "-v", "-t", "1")...)
			}
		})
		name := func(svc string) string { return c.container(p, svc, 1) }
		label := "label=com.docker.compose.project=" + p

		// The engine's events for store alone: two label filters (ANDed)
		// and a type filter; and compose's own events of the project.
		engineEvents := startBackground(t, d.BerthCmd("events", "--filter", "type=container", "--filter", label,
			"--filter", "label=com.docker.compose.service=store", "--format", "{{.Action}} {{.Actor.Attributes.name}}"))
		composeEvents := c.start(t, dir, "-p", p, "events", "--json")

		up := []string{"-p", p, "up", "-d"}
		if !c.v1 {
			up = append(up, "--wait") // docker-compose 1.29 has no --wait
		}
		c.ok(t, dir, up...)
		wantStartedHealthy(t, d, name("web"), name("store"))
		if got := inspect(t, d, name("init"), "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
			t.Errorf("init (a one-shot) is %q after up, want exited 0", got)
		}
		wantStartedAfter(t, d, name("web"), name("init"), "FinishedAt")
		wantStartedAfter(t, d, name("side"), name("web"), "StartedAt")
		c.ok(t, dir, "-p", p, "exec", "-T", "web", "/hits", "wait-file", "/shared/x", "1")
		wantHit(t, c, dir, p, "Hello", 1)

		engineEvents.waitOutput(t, "health_status: healthy "+name("store"), 10*time.Second)
		for _, line := range lines(engineEvents.out.String()) {
			if !strings.HasSuffix(line, " "+name("store")) {
				t.Errorf("berth events with the project's and store's labels and type=container got %q", line)
			}
		}
		waitFor(t, 10*time.Second, "compose events --json to report store healthy", func() bool {
			return composeEventSeen(composeEvents.out.String(), "store", "health_status: healthy")
		})

		// exec: output, exit code, stderr; -T everywhere, and without it
		// where the client finds by itself that there is no terminal.
		execs := [][]string{{"exec", "-T"}}
		if !c.v1 { // docker-compose 1.29 asks for a TTY unless -T
			execs = append(execs, []string{"exec"})
		}
		for _, exec := range execs {
			r := c.run(t, dir, append(append([]string{"-p", p}, exec...), "side", "sh", "-c", "cat /shared/x; echo oops >&2; exit 3")...)
			if r.ExitCode != 3 || r.Out() != "done" || !strings.Contains(r.Stderr, "oops") {
				t.Errorf("%s side: want exit 3, stdout done, stderr oops: %s", strings.Join(exec, " "), r)
			}
		}

		if !c.v1 { // docker-compose 1.29 has no cp and no stats
			in := filepath.Join(t.TempDir(), "in.txt")
			if err := os.WriteFile(in, []byte("from the host\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			c.ok(t, dir, "-p", p, "cp", in, "side:/tmp/in.txt")
			if got := c.ok(t, dir, "-p", p, "exec", "-T", "side", "cat", "/tmp/in.txt"); got != "from the host" {
				t.Errorf("cat of the file cp put in side = %q", got)
			}
			out := filepath.Join(t.TempDir(), "x")
			c.ok(t, dir, "-p", p, "cp", "side:/shared/x", out)
			if got, err := os.ReadFile(out); err != nil || string(got) != "done\n" {
				t.Errorf("cp side:/shared/x: %q, %v", got, err)
			}
			if got := c.ok(t, dir, "-p", p, "stats", "--no-stream"); !strings.Contains(got, name("side")) || !strings.Contains(got, name("web")) {
				t.Errorf("stats --no-stream does not list side and web:\n%s", got)
			}
		}
		if got := c.ok(t, dir, "-p", p, "top", "side"); !strings.Contains(got, "while true") {
			t.Errorf("top side does not show side's shell:\n%s", got)
		}
		if got := c.ok(t, dir, "-p", p, "images"); !strings.Contains(got, "busybox") || !strings.Contains(got, name("web")) {
			t.Errorf("images lists neither busybox nor web's container:\n%s", got)
		}

		c.ok(t, dir, "-p", p, "pause", "side")
		if got := inspect(t, d, name("side"), "{{.State.Status}}"); got != "paused" {
			t.Errorf("side is %s after pause", got)
		}
		c.ok(t, dir, "-p", p, "unpause", "side")
		if got := inspect(t, d, name("side"), "{{.State.Status}}"); got != "running" {
			t.Errorf("side is %s after unpause", got)
		}

		// logs with the service's prefix; logs -f gets the lines that
		// come after it started and ends when the container stops.
		tick := regexp.MustCompile(`(?m)^side[-_]1 +\| tick$`)
		if got := c.ok(t, dir, "-p", p, "logs", "--no-color", "side"); !tick.MatchString(got) {
			t.Errorf("logs side has no prefixed tick:\n%s", got)
		}
		follow := c.start(t, dir, "-p", p, "logs", "-f", "--no-color", "side")
		follow.waitOutput(t, "| tick", 10*time.Second)
		c.ok(t, dir, "-p", p, "kill", "-s", "SIGUSR1", "side")
		follow.waitOutput(t, "| got-usr1", 10*time.Second)
		c.ok(t, dir, "-p", p, "stop", "side")
		follow.wait(t, 20*time.Second)
		if got := inspect(t, d, name("side"), "{{.State.Status}}"); got != "exited" {
			t.Errorf("side is %s after stop", got)
		}

		c.ok(t, dir, "-p", p, "start", "side")
		started := inspect(t, d, name("side"), "{{.State.Status}} {{.State.StartedAt}}")
		c.ok(t, dir, "-p", p, "restart", "side")
		if got := inspect(t, d, name("side"), "{{.State.Status}} {{.State.StartedAt}}"); got == started || !strings.HasPrefix(got, "running ") {
			t.Errorf("side is %q after restart, was %q", got, started)
		}
		c.ok(t, dir, "-p", p, "kill", "side")
		if got := inspect(t, d, name("side"), "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
			t.Errorf("side is %q after kill, want exited 137", got)
		}
		waitFor(t, 10*time.Second, "compose events --json to report side's kill and die", func() bool {
			out := composeEvents.out.String()
			return composeEventSeen(out, "side", "kill") && composeEventSeen(out, "side", "die")
		})

		// compose finds containers by their labels: a renamed one is
		// still the service's.
		renamed := p + "-renamed"
		d.Berth(t, "rename", name("side"), renamed).Success(t)
		if got := c.ok(t, dir, "-p", p, "ps", "-a"); !strings.Contains(got, renamed) {
			t.Errorf("ps -a does not list side renamed %s:\n%s", renamed, got)
		}

		if got := c.ok(t, dir, "-p", p, "run", "--rm", "-T", "side", "echo", "hi-from-run"); got != "hi-from-run" {
			t.Errorf("run --rm side echo printed %q", got)
		}
		if got := d.Berth(t, "ps", "-aq", "--filter", label, "--filter", "label=com.docker.compose.oneoff=True").Success(t).Out(); got != "" {
			t.Errorf("run --rm left its container: %s", got)
		}
		c.ok(t, dir, "-p", p, "rm", "-f", "side")
		if ids := serviceIDs(t, d, p, "side"); len(ids) != 0 {
			t.Errorf("side's container is left after rm -f: %v", ids)
		}

		// A dependency that exits 3 fails up (and says so), as with dockerd.
		r := c.run(t, dir, "-p", p, "--profile", "fail", "up", "-d", "needsbroken")
		want := `service "broken" didn't complete successfully: exit 3`
		if c.v1 {
			want = "exited with code 3"
		}
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, want) {
			t.Errorf("up with a failed service_completed_successfully dependency: want a failure saying %q: %s", want, r)
		}
		if got := d.Berth(t, "ps", "-q", "--filter", label, "--filter", "label=com.docker.compose.service=needsbroken").Success(t).Out(); got != "" {
			t.Errorf("needsbroken runs though its dependency failed: %s", got)
		}
		if !c.v1 {
			r := c.run(t, dir, "-p", p, "--profile", "sick", "up", "-d", "--wait", "sick")
			if r.ExitCode == 0 || !strings.Contains(r.Stderr, name("sick")+" is unhealthy") {
				t.Errorf("up --wait of a never-healthy service: want a failure saying it is unhealthy: %s", r)
			}
		}

		c.ok(t, dir, append(append([]string{"-p", p}, lifecycleProfiles...), "down", "-v", "--rmi", "local")...)
		if left := projectLeftovers(t, d, p); len(left) != 0 {
			t.Errorf("left after down -v:\n%s", strings.Join(left, "\n"))
		}
		// compose v5 with the classic builder keeps the built images
		// despite --rmi local, against dockerd 20.10 too: remove them.
		for _, repo := range lines(d.Berth(t, "images", "--format", "{{.Repository}}").Success(t).Out()) {
			if strings.HasPrefix(repo, p) {
				d.Berth(t, "rmi", repo).Success(t)
			}
		}
	})
}

// TestComposeForeground is `up` without -d with each client: it attaches
// to every service's output with the service's prefix, notices a
// container's exit, gives its exit code with --abort-on-container-exit and
// --exit-code-from, attaches again to a restarted container, and stops
// the containers on SIGINT (Ctrl-C).
func TestComposeForeground(t *testing.T) {
	d := sharedDaemon(t)
	eachCompose(t, d, func(t *testing.T, c composeCLI) {
		dir := composeProject(t, map[string]string{"compose.yaml": foregroundCompose}, false)
		p := unique("fg")
		cleanupProject(t, c, dir, p)
		name := func(svc string) string { return c.container(p, svc, 1) }

		for _, flag := range []string{"--abort-on-container-exit", "--exit-code-from=a"} {
			r := c.run(t, dir, "-p", p, "up", "--no-color", flag)
			out := r.Combined()
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`(?m)^a[-_]1 +\| a-start$`), regexp.MustCompile(`(?m)^a[-_]1 +\| a-end$`),
				regexp.MustCompile(`(?m)^b[-_]1 +\| b-start$`), regexp.MustCompile(`a[-_]1 exited with code 7`),
			} {
				if !want.MatchString(out) {
					t.Errorf("up %s: output does not match %s:\n%s", flag, want, out)
				}
			}
			if strings.Contains(out, "Traceback") {
				t.Errorf("up %s crashed in a thread:\n%s", flag, out)
			}
			if r.ExitCode != 7 {
				t.Errorf("up %s exited %d, want a's 7: %s", flag, r.ExitCode, r)
			}
			if got := inspect(t, d, name("b"), "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
				t.Errorf("b is %q after up %s, want exited 0 (stopped with SIGTERM)", got, flag)
			}
		}

		// up follows a container that restarts (its event watcher
		// attaches to it again), and stops it on SIGINT.
		fg := c.start(t, dir, "-p", p, "up", "--no-color", "b")
		fg.waitOutput(t, "| b-start", 20*time.Second)
		if !c.v1 { // docker-compose 1.29 does not attach again after a restart (nor with dockerd 20.10)
			c.ok(t, dir, "-p", p, "restart", "b")
			waitFor(t, 20*time.Second, "up to attach to b again after its restart", func() bool {
				return strings.Count(fg.out.String(), "| b-start") == 2
			})
		}
		if err := fg.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		fg.wait(t, 20*time.Second)
		if got := inspect(t, d, name("b"), "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
			t.Errorf("b is %q after SIGINT to up, want exited 0 (stopped with SIGTERM)", got)
		}

		c.ok(t, dir, "-p", p, "down", "-v")
		if left := projectLeftovers(t, d, p); len(left) != 0 {
			t.Errorf("left after down -v:\n%s", strings.Join(left, "\n"))
		}
	})
}

// wantStartedAfter checks that container started no sooner than
// dependency's State.<when> (StartedAt or FinishedAt).
func wantStartedAfter(t *testing.T, d *testutil.Daemon, container, dependency, when string) {
	t.Helper()
	at := func(name, field string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, inspect(t, d, name, "{{.State."+field+"}}"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if started, dep := at(container, "StartedAt"), at(dependency, when); started.Before(dep) {
		t.Errorf("%s started at %s, before %s's %s %s", container, started, dependency, when, dep)
	}
}

// composeEventSeen reports whether the output of `compose events --json`
// has an event of service with action.
func composeEventSeen(out, service, action string) bool {
	for _, line := range lines(out) {
		var ev struct{ Service, Action string }
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Service == service && ev.Action == action {
			return true
		}
	}
	return false
}

// background is a command running while the test goes on, its stdout
// and stderr read as they come; it is killed when the test ends.
type background struct {
	cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
}

// startBackground starts cmd in the background.
func startBackground(t *testing.T, cmd *exec.Cmd) *background {
	t.Helper()
	b := &background{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &b.out, &b.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-b.done
	})
	return b
}

// start runs the client in dir in the background.
func (c composeCLI) start(t *testing.T, dir string, args ...string) *background {
	t.Helper()
	cmd, err := c.cmd(c.d, dir, args...)
	if err != nil {
		t.Fatalf("compose client %s: %v", c.name, err)
	}
	return startBackground(t, cmd)
}

// waitOutput waits until the command has printed want.
func (b *background) waitOutput(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(b.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not print %q within %s:\n%s", b.cmd, want, timeout, b.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wait waits for the command to end by itself.
func (b *background) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(timeout):
		t.Fatalf("%s did not end within %s:\n%s", b.cmd, timeout, b.out.String())
	}
}
