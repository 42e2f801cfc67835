//go:build linux

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/testutil"
)

// health reads a container's State.Health through the API (nil when it has
// none).
func health(t testing.TB, d *testutil.Daemon, name string) *containertypes.Health {
	t.Helper()
	out := inspect(t, d, name, "{{json .State.Health}}")
	var h *containertypes.Health
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatalf("State.Health of %s: %v in %q", name, err, out)
	}
	return h
}

// waitHealth waits until name's health status is want and returns it.
func waitHealth(t testing.TB, d *testutil.Daemon, name string, want containertypes.HealthStatus, timeout time.Duration) *containertypes.Health {
	t.Helper()
	var h *containertypes.Health
	waitFor(t, timeout, name+" "+string(want), func() bool {
		h = health(t, d, name)
		return h != nil && h.Status == want
	})
	return h
}

// psNames lists the names ps shows for filter.
func psNames(t testing.TB, c cli, filter string) []string {
	t.Helper()
	return lines(c.ok(t, "ps", "-a", "--filter", filter, "--format", "{{.Names}}"))
}

// TestHealthHealthy: a passing --health-cmd makes the container healthy;
// inspect has docker's State.Health with the probe's output and exit code,
// ps shows "(healthy)" and the health filter finds it.
func TestHealthHealthy(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("healthy")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "--health-cmd", "echo probe-out; echo probe-err >&2",
			"--health-interval", "300ms", "busybox", "sleep", "300")
		if got := inspect(t, d, name, "{{json .Config.Healthcheck}}"); got != `{"Test":["CMD-SHELL","echo probe-out; echo probe-err >&2"],"Interval":300000000}` {
			t.Errorf("Config.Healthcheck = %s", got)
		}
		h := waitHealth(t, d, name, containertypes.Healthy, 10*time.Second)
		if h.FailingStreak != 0 || len(h.Log) == 0 {
			t.Fatalf("health %+v", h)
		}
		last := h.Log[len(h.Log)-1]
		// stdout and stderr reach the log as they come, in either order
		if last.ExitCode != 0 || (last.Output != "probe-out\nprobe-err\n" && last.Output != "probe-err\nprobe-out\n") || !last.End.After(last.Start) {
			t.Errorf("last probe %+v", last)
		}
		status := c.ok(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}")
		if !regexp.MustCompile(`^Up .* \(healthy\)$`).MatchString(status) {
			t.Errorf("ps status %q, want Up ... (healthy)", status)
		}
		if got := c.ok(t, "ps", "--filter", "name="+name); !strings.Contains(got, "(healthy)") {
			t.Errorf("ps table lacks (healthy):\n%s", got)
		}
		if !contains(psNames(t, c, "health=healthy"), name) {
			t.Errorf("ps --filter health=healthy misses %s", name)
		}
		for _, other := range []string{"unhealthy", "starting", "none"} {
			if contains(psNames(t, c, "health="+other), name) {
				t.Errorf("ps --filter health=%s lists %s", other, name)
			}
		}
		c.run(t, "ps", "--filter", "health=sick").Fails(t, 1, "invalid value for health (sick): must be one of none, starting, healthy, unhealthy")
	})
}

// TestHealthUnhealthy: a failing check makes the container unhealthy after
// --health-retries failures in a row; the log keeps the last 5 probes; a
// probe past its timeout is killed and counted as failing.
func TestHealthUnhealthy(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("unhealthy")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "--health-cmd", "echo failing; exit 3",
			"--health-interval", "200ms", "--health-retries", "2", "busybox", "sleep", "300")
		h := waitHealth(t, d, name, containertypes.Unhealthy, 10*time.Second)
		if h.FailingStreak < 2 {
			t.Errorf("FailingStreak %d, want at least the 2 retries", h.FailingStreak)
		}
		if last := h.Log[len(h.Log)-1]; last.ExitCode != 3 || last.Output != "failing\n" {
			t.Errorf("last probe %+v", last)
		}
		waitFor(t, 10*time.Second, "7 failures", func() bool { h = health(t, d, name); return h.FailingStreak >= 7 })
		if len(h.Log) != 5 {
			t.Errorf("log holds %d probes, want the last 5", len(h.Log))
		}
		for i := 1; i < len(h.Log); i++ {
			if h.Log[i].Start.Before(h.Log[i-1].Start) {
				t.Errorf("log not oldest first: %v", h.Log)
			}
		}
		status := c.ok(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}")
		if !regexp.MustCompile(`^Up .* \(unhealthy\)$`).MatchString(status) {
			t.Errorf("ps status %q, want Up ... (unhealthy)", status)
		}
		if !contains(psNames(t, c, "health=unhealthy"), name) {
			t.Errorf("ps --filter health=unhealthy misses %s", name)
		}

		slow := unique("slowprobe")
		rmOnCleanup(t, d, slow)
		c.ok(t, "run", "-d", "--name", slow, "--health-cmd", "echo started; sleep 30",
			"--health-interval", "200ms", "--health-timeout", "300ms", "--health-retries", "1", "busybox", "sleep", "300")
		h = waitHealth(t, d, slow, containertypes.Unhealthy, 15*time.Second)
		last := h.Log[len(h.Log)-1]
		if last.ExitCode != -1 || last.Output != "Health check exceeded timeout (300ms): started\n" {
			t.Errorf("timed-out probe %+v", last)
		}
		if d := last.End.Sub(last.Start); d < 300*time.Millisecond || d > 5*time.Second {
			t.Errorf("timed-out probe lasted %s", d)
		}
		// the monitor goes on after a killed probe
		n := len(h.Log)
		waitFor(t, 10*time.Second, "another probe", func() bool {
			h2 := health(t, d, slow)
			return h2.Log[len(h2.Log)-1].Start.After(last.Start) || len(h2.Log) > n
		})
	})
}

// TestHealthStartPeriod: failures within --health-start-period do not count;
// the container stays "starting", probed every --health-start-interval.
func TestHealthStartPeriod(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("starting")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "--health-cmd", "false", "--health-interval", "1h",
			"--health-start-period", "1h", "--health-start-interval", "200ms", "--health-retries", "1", "busybox", "sleep", "300")
		var h *containertypes.Health
		waitFor(t, 10*time.Second, "3 probes in the start period", func() bool {
			h = health(t, d, name)
			return h != nil && len(h.Log) >= 3
		})
		if h.Status != containertypes.Starting || h.FailingStreak != 0 || h.Log[0].ExitCode != 1 {
			t.Errorf("health in the start period %+v", h)
		}
		status := c.ok(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}")
		if !regexp.MustCompile(`^Up .* \(health: starting\)$`).MatchString(status) {
			t.Errorf("ps status %q, want Up ... (health: starting)", status)
		}
		if !contains(psNames(t, c, "health=starting"), name) {
			t.Errorf("ps --filter health=starting misses %s", name)
		}
	})
}

// TestHealthImageAndNone: an image's HEALTHCHECK (CMD form) runs;
// --no-healthcheck turns it off (Test ["NONE"], no State.Health, the
// "none" health filter); --health-* options override its fields; output
// is cut at 4096 bytes like docker's.
func TestHealthImageAndNone(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	ref := unique("hcimage") + ":latest"
	d.Berth(t, "import", "-c", `HEALTHCHECK --interval=200ms --retries=1 CMD ["sh", "-c", "echo from-image; exit 1"]`, d.BusyboxTar(t), ref).Success(t)
	t.Cleanup(func() { d.Berth(t, "rmi", "-f", ref) })
	eachCLI(t, d, func(t *testing.T, c cli) {
		img := unique("fromimage")
		rmOnCleanup(t, d, img)
		c.ok(t, "run", "-d", "--name", img, ref, "sleep", "300")
		h := waitHealth(t, d, img, containertypes.Unhealthy, 10*time.Second)
		if last := h.Log[len(h.Log)-1]; last.Output != "from-image\n" || last.ExitCode != 1 {
			t.Errorf("image probe %+v", last)
		}

		none := unique("nohc")
		rmOnCleanup(t, d, none)
		c.ok(t, "run", "-d", "--name", none, "--no-healthcheck", ref, "sleep", "300")
		if got := inspect(t, d, none, "{{json .Config.Healthcheck.Test}}"); got != `["NONE"]` {
			t.Errorf("--no-healthcheck: Test %s", got)
		}
		time.Sleep(700 * time.Millisecond) // several intervals of the image's check
		if h := health(t, d, none); h != nil {
			t.Errorf("--no-healthcheck: State.Health %+v", h)
		}
		if got := c.ok(t, "ps", "--filter", "name="+none, "--format", "{{.Status}}"); strings.Contains(got, "(") {
			t.Errorf("--no-healthcheck: ps status %q", got)
		}
		if names := psNames(t, c, "health=none"); !contains(names, none) || contains(names, img) {
			t.Errorf("ps --filter health=none: %v", names)
		}
		c.run(t, "run", "--no-healthcheck", "--health-cmd", "true", ref, "true").Fails(t, 125, "--no-healthcheck conflicts with --health-* options")

		over := unique("override")
		rmOnCleanup(t, d, over)
		c.ok(t, "run", "-d", "--name", over, "--health-cmd", "head -c 5000 /dev/zero | tr '\\0' a", ref, "sleep", "300")
		if got := inspect(t, d, over, "{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}}"); got != "200ms 1" {
			t.Errorf("the image's interval and retries were not kept: %s", got)
		}
		h = waitHealth(t, d, over, containertypes.Healthy, 10*time.Second)
		if out := h.Log[len(h.Log)-1].Output; out != strings.Repeat("a", 4096)+"..." {
			t.Errorf("long output kept as %d bytes ending %q", len(out), out[max(0, len(out)-8):])
		}
	})
}

// TestHealthRefusals: docker's create-time messages for bad health options.
func TestHealthRefusals(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, tc := range []struct {
			flag, value, msg string
		}{
			{"--health-interval", "500us", "Interval in Healthcheck cannot be less than 1ms"},
			{"--health-timeout", "10us", "Timeout in Healthcheck cannot be less than 1ms"},
			{"--health-start-period", "1us", "StartPeriod in Healthcheck cannot be less than 1ms"},
			{"--health-start-interval", "1us", "StartInterval in Healthcheck cannot be less than 1ms"},
			{"--health-interval", "-1s", "--health-interval cannot be negative"},
			{"--health-retries", "-1", "--health-retries cannot be negative"},
		} {
			code := 1 // the daemon's refusal; the CLIs' own checks exit 125
			if strings.HasPrefix(tc.msg, "--") {
				code = 125
			}
			c.run(t, "create", "--health-cmd", "true", tc.flag, tc.value, "busybox").Fails(t, code, tc.msg)
		}
	})
}

// TestHealthStopsWithContainer: no probe runs once the container stopped,
// which docker then reports unhealthy; a start begins again from
// "starting" with the log kept.
func TestHealthStopsWithContainer(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	name := unique("hcstop")
	rmOnCleanup(t, d, name)
	d.Berth(t, "run", "-d", "--name", name, "--health-cmd", "true", "--health-interval", "200ms", "busybox", "sleep", "300").Success(t)
	waitHealth(t, d, name, containertypes.Healthy, 10*time.Second)
	// the probes' runc intermediates do not pile up as zombies of the shim
	time.Sleep(2 * time.Second)
	if z := shimZombies(t, inspect(t, d, name, "{{.Id}}")); z > 3 {
		t.Errorf("the shim holds %d zombie children after 10 probes", z)
	}
	d.Berth(t, "stop", "-t", "1", name).Success(t)
	h := health(t, d, name)
	time.Sleep(800 * time.Millisecond)
	after := health(t, d, name)
	if after.Status != containertypes.Unhealthy || len(after.Log) != len(h.Log) || !after.Log[len(after.Log)-1].Start.Equal(h.Log[len(h.Log)-1].Start) {
		t.Errorf("probes went on after stop: %+v then %+v", h, after)
	}
	d.Berth(t, "start", name).Success(t)
	if h := health(t, d, name); h.Status != containertypes.Starting || len(h.Log) == 0 {
		t.Errorf("after start: %+v, want starting with the log kept", h)
	}
	waitHealth(t, d, name, containertypes.Healthy, 10*time.Second)
}

// TestHealthSurvivesDaemonRestart: the health state is on disk, and the
// probes resume under a new berthd, after a clean stop and after kill -9.
func TestHealthSurvivesDaemonRestart(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	name := unique("hcrestart")
	d.Berth(t, "run", "-d", "--name", name, "--health-cmd", "true", "--health-interval", "300ms", "busybox", "sleep", "300").Success(t)
	t.Cleanup(func() { d.Berth(t, "rm", "-f", name) })
	waitHealth(t, d, name, containertypes.Healthy, 10*time.Second)

	for _, stop := range []struct {
		how string
		do  func() error
	}{{"stop", d.Stop}, {"kill -9", d.Kill9}} {
		before := health(t, d, name)
		if err := stop.do(); err != nil {
			t.Fatal(err)
		}
		restarted := time.Now()
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		h := health(t, d, name)
		// the log is the previous berthd's (after kill -9, up to 10s older)
		if h.Status != containertypes.Healthy || len(h.Log) == 0 || !h.Log[len(h.Log)-1].Start.Before(restarted) {
			t.Errorf("after %s: %+v, want healthy with the log kept (was %+v)", stop.how, h, before)
		}
		waitFor(t, 10*time.Second, "a probe by the new berthd", func() bool {
			h = health(t, d, name)
			return h.Log[len(h.Log)-1].Start.After(restarted)
		})
		if status := d.Berth(t, "ps", "--format", "{{.Status}}").Success(t).Out(); !strings.HasSuffix(status, "(healthy)") {
			t.Errorf("after %s: ps status %q", stop.how, status)
		}
	}
}

// TestHealthEvents: a status change is docker's "health_status: <status>"
// event, and every probe logs the exec_create, exec_start and exec_die of
// an exec, as dockerd's do.
func TestHealthEvents(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("hcevents")
		rmOnCleanup(t, d, name)
		since := time.Now().Add(-time.Second).Unix()
		c.ok(t, "run", "-d", "--name", name, "--health-cmd", "exit 0", "--health-interval", "200ms", "busybox", "sleep", "300")
		waitHealth(t, d, name, containertypes.Healthy, 10*time.Second)
		until := time.Now().Add(time.Second).Unix()
		got := lines(c.ok(t, "events", "--since", strconv.FormatInt(since, 10), "--until", strconv.FormatInt(until, 10),
			"--filter", "container="+name, "--format", "{{.Action}} {{index .Actor.Attributes \"exitCode\"}}"))
		var actions []string
		for _, l := range got {
			if strings.HasPrefix(l, "exec_") || strings.HasPrefix(l, "health_status") {
				actions = append(actions, strings.TrimSpace(l))
			}
		}
		want := []string{"exec_create: /bin/sh -c exit 0", "exec_start: /bin/sh -c exit 0", "exec_die 0", "health_status: healthy"}
		if len(actions) < 4 || strings.Join(actions[:4], "|") != strings.Join(want, "|") {
			t.Errorf("events %q, want first %q", actions, want)
		}
		if n := strings.Count(strings.Join(actions, "\n"), "health_status"); n != 1 {
			t.Errorf("%d health_status events for one change", n)
		}
	})
}

// shimZombies counts the zombie children of the shim of container id.
func shimZombies(t *testing.T, id string) int {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*")
	shims := map[string]bool{}
	for _, p := range procs {
		if cmdline, _ := os.ReadFile(p + "/cmdline"); strings.Contains(string(cmdline), "berth-shim\x00-id\x00"+id) {
			shims[filepath.Base(p)] = true
		}
	}
	if len(shims) != 1 {
		t.Fatalf("%d shims for %s", len(shims), id)
	}
	n := 0
	for _, p := range procs {
		stat, _ := os.ReadFile(p + "/stat")
		s := string(stat)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 && f[0] == "Z" && shims[f[1]] {
				n++
			}
		}
	}
	return n
}
