//go:build linux

package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// zombies runs, in a container, a shell that leaves an orphan and then
// becomes a pid 1 that never waits (sleep): the orphan is reaped only if an
// init is pid 1. It returns ps's view once the orphan has exited.
func zombies(t *testing.T, c cli, d *testutil.Daemon, args ...string) string {
	t.Helper()
	name := unique("zombie")
	rmOnCleanup(t, d, name)
	run := append(append([]string{"run", "-d", "--name", name}, args...), "busybox", "sh", "-c", "(sleep 1 &); exec sleep 300")
	c.ok(t, run...)
	time.Sleep(2500 * time.Millisecond) // the orphan's second, and margin on a busy host
	return d.Berth(t, "exec", name, "ps", "-o", "pid,stat,comm").Success(t).Out()
}

// hasZombie reports whether ps output lists a zombie.
func hasZombie(ps string) bool {
	for _, l := range lines(ps) {
		if f := strings.Fields(l); len(f) >= 2 && strings.HasPrefix(f[1], "Z") {
			return true
		}
	}
	return false
}

// TestInitReapsZombies proves --init reaps orphans: without it the same
// container keeps a zombie.
func TestInitReapsZombies(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if ps := zombies(t, c, d); !hasZombie(ps) {
			t.Fatalf("without --init the orphan should stay a zombie (else this test proves nothing):\n%s", ps)
		}
		ps := zombies(t, c, d, "--init")
		if hasZombie(ps) {
			t.Errorf("--init left a zombie:\n%s", ps)
		}
		if f := strings.Fields(lines(ps)[1]); len(f) < 3 || f[0] != "1" || f[2] != "docker-init" {
			t.Errorf("pid 1 is not docker-init:\n%s", ps)
		}
	})
}

// TestInitProcess checks the init docker runs: /sbin/docker-init -- <cmd>
// as pid 1, read-only, HostConfig.Init in inspect, the command's exit code
// (and 127 for one that does not exist) propagated.
func TestInitProcess(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("init")
		rmOnCleanup(t, d, name)
		out := c.ok(t, "run", "--name", name, "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; touch /sbin/docker-init 2>&1 || true")
		got := lines(out)
		if len(got) != 2 || !strings.HasPrefix(got[0], "/sbin/docker-init -- sh -c") || !strings.Contains(got[1], "Read-only file system") {
			t.Errorf("pid 1 and its mount: %q", got)
		}
		if got := inspect(t, d, name, "{{.HostConfig.Init}} {{.Path}}"); got != "true sh" {
			t.Errorf("inspect = %q, want %q", got, "true sh")
		}
		c.run(t, "run", "--rm", "--init", "busybox", "sh", "-c", "exit 7").Fails(t, 7)
		c.run(t, "run", "--rm", "--init", "busybox", "sh", "-c", "kill -TERM $$").Fails(t, 143)
		c.run(t, "run", "--rm", "--init", "busybox", "berth-no-such-command").Fails(t, 127)
	})
}

// TestInitForwardsStop proves `stop` reaches the command through the init:
// the command traps SIGTERM and exits with its own code, at once rather
// than after the 10 s timeout.
func TestInitForwardsStop(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("initstop")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--init", "--name", name, "busybox", "sh", "-c", "trap 'exit 42' TERM; echo ready; while true; do sleep 1; done")
		waitFor(t, 10*time.Second, "the trap", func() bool { return strings.Contains(d.Berth(t, "logs", name).Stdout, "ready") })
		began := time.Now()
		c.ok(t, "stop", name)
		if took := time.Since(began); took > 6*time.Second {
			t.Errorf("stop took %s: SIGTERM did not reach the command", took)
		}
		if got := inspect(t, d, name, "{{.State.ExitCode}}"); got != "42" {
			t.Errorf("exit code %s, want the trap's 42", got)
		}
	})
}

// TestInitDaemonDefault checks berthd's --init (daemon.json "init": true):
// containers get the init unless they say --init=false.
func TestInitDaemonDefault(t *testing.T) {
	t.Parallel()
	testutil.RequiresRoot(t)
	d := testutil.StartDaemon(t, testutil.WithArgs("--init"))
	d.LoadBusybox(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if got := c.ok(t, "run", "--rm", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"); !strings.HasPrefix(got, "/sbin/docker-init -- ") {
			t.Errorf("pid 1 with berthd --init: %q", got)
		}
		if got := c.ok(t, "run", "--rm", "--init=false", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"); !strings.HasPrefix(got, "sh -c") {
			t.Errorf("pid 1 with --init=false: %q", got)
		}
	})
}
