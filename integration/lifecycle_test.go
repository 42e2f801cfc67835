//go:build linux

package integration

import (
	"strings"
	"testing"
	"time"
)

func TestStopStartRestart(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("life")
		// sh traps TERM so stop ends it at once with code 0
		c.ok(t, "run", "-d", "--name", name, "busybox", "sh", "-c", `trap "exit 0" TERM; while true; do sleep 0.1; done`)
		rmOnCleanup(t, d, name)
		if got := c.ok(t, "stop", name); got != name {
			t.Errorf("stop printed %q, want %q", got, name)
		}
		if got := inspect(t, d, name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
			t.Errorf("after stop: %q, want exited 0", got)
		}
		// stopping a stopped container is a no-op that succeeds
		if got := c.ok(t, "stop", name); got != name {
			t.Errorf("second stop printed %q, want %q", got, name)
		}
		firstStart := inspect(t, d, name, "{{.State.StartedAt}}")
		if got := c.ok(t, "start", name); got != name {
			t.Errorf("start printed %q, want %q", got, name)
		}
		if got := inspect(t, d, name, "{{.State.Running}}"); got != "true" {
			t.Errorf("after start: Running = %q", got)
		}
		if got := inspect(t, d, name, "{{.State.StartedAt}}"); got == firstStart {
			t.Errorf("StartedAt did not change on start: %q", got)
		}
		pid := inspect(t, d, name, "{{.State.Pid}}")
		if got := c.ok(t, "restart", "-t", "5", name); got != name {
			t.Errorf("restart printed %q, want %q", got, name)
		}
		if got := inspect(t, d, name, "{{.State.Running}} {{.RestartCount}}"); !strings.HasPrefix(got, "true") {
			t.Errorf("after restart: %q, want running", got)
		}
		if got := inspect(t, d, name, "{{.State.Pid}}"); got == pid {
			t.Errorf("restart kept pid %s", got)
		}
	})
}

func TestStopTimeout(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		// pid 1 without a TERM handler ignores SIGTERM: stop kills it after -t
		name := unique("stopt")
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		rmOnCleanup(t, d, name)
		start := time.Now()
		c.ok(t, "stop", "-t", "1", name)
		if el := time.Since(start); el < 900*time.Millisecond || el > 20*time.Second {
			t.Errorf("stop -t 1 took %s, want about 1s", el)
		}
		if got := inspect(t, d, name, "{{.State.ExitCode}}"); got != "137" {
			t.Errorf("exit code after stop -t 1 = %q, want 137", got)
		}
		// stop -s sends another signal first
		name = unique("stops")
		c.ok(t, "run", "-d", "--name", name, "busybox", "sh", "-c", `trap "exit 12" USR1; while true; do sleep 0.1; done`)
		rmOnCleanup(t, d, name)
		c.ok(t, "stop", "-s", "USR1", "-t", "10", name)
		if got := inspect(t, d, name, "{{.State.ExitCode}}"); got != "12" {
			t.Errorf("exit code after stop -s USR1 = %q, want 12", got)
		}
	})
}

func TestKill(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("kill")
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		rmOnCleanup(t, d, name)
		if got := c.ok(t, "kill", name); got != name {
			t.Errorf("kill printed %q, want %q", got, name)
		}
		if got := c.ok(t, "wait", name); got != "137" {
			t.Errorf("wait after kill = %q, want 137", got)
		}
		name = unique("kills")
		c.ok(t, "run", "-d", "--name", name, "busybox", "sh", "-c", `trap "echo got-usr1; exit 9" USR1; while true; do sleep 0.1; done`)
		rmOnCleanup(t, d, name)
		// give sh time to install the trap
		waitFor(t, 10*time.Second, "the container to run", func() bool { return inspect(t, d, name, "{{.State.Running}}") == "true" })
		time.Sleep(300 * time.Millisecond)
		c.ok(t, "kill", "-s", "USR1", name)
		if got := c.ok(t, "wait", name); got != "9" {
			t.Errorf("wait after kill -s USR1 = %q, want 9", got)
		}
		if got := c.ok(t, "logs", name); got != "got-usr1" {
			t.Errorf("logs = %q, want got-usr1", got)
		}
		// killing a stopped container fails
		r := c.run(t, "kill", name)
		r.Fails(t, 1, "is not running")
	})
}

func TestRemove(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("rmf")
		id := c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		rmOnCleanup(t, d, name)
		c.run(t, "rm", name).Fails(t, 1, "Error response from daemon: cannot remove container", "container is running: stop the container before removing or force remove")
		if got := inspect(t, d, name, "{{.State.Running}}"); got != "true" {
			t.Errorf("a refused rm changed the container: Running = %q", got)
		}
		if got := c.ok(t, "rm", "-f", name); got != name {
			t.Errorf("rm -f printed %q, want %q", got, name)
		}
		c.run(t, "inspect", name).Fails(t, 1, "No such")
		c.run(t, "rm", id).Fails(t, 1, "No such container")

		// rm of a stopped container, by id prefix
		name = unique("rm")
		id = c.ok(t, "create", "--name", name, "busybox", "true")
		if got := c.ok(t, "rm", id[:12]); got != id[:12] {
			t.Errorf("rm printed %q, want %q", got, id[:12])
		}
		c.run(t, "rm", "-v", name).Fails(t, 1, "No such container: "+name)
	})
}

func TestWait(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		a, b := unique("waita"), unique("waitb")
		c.ok(t, "run", "-d", "--name", a, "busybox", "sh", "-c", "sleep 1; exit 7")
		rmOnCleanup(t, d, a)
		c.ok(t, "run", "-d", "--name", b, "busybox", "sh", "-c", "exit 2")
		rmOnCleanup(t, d, b)
		if got := lines(c.ok(t, "wait", a, b)); strings.Join(got, ",") != "7,2" {
			t.Errorf("wait %s %s = %q, want [7 2]", a, b, got)
		}
		// wait on an exited container returns at once
		if got := c.ok(t, "wait", b); got != "2" {
			t.Errorf("second wait = %q, want 2", got)
		}
		c.run(t, "wait", unique("nosuch")).Fails(t, 1, "No such container")
	})
}

func TestRename(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		old, renamed, other := unique("old"), unique("new"), unique("other")
		c.ok(t, "create", "--name", old, "busybox", "true")
		rmOnCleanup(t, d, old)
		rmOnCleanup(t, d, renamed)
		c.ok(t, "rename", old, renamed)
		if got := inspect(t, d, renamed, "{{.Name}}"); got != "/"+renamed {
			t.Errorf("Name after rename = %q, want /%s", got, renamed)
		}
		c.run(t, "inspect", old).Fails(t, 1, "No such")
		c.ok(t, "create", "--name", other, "busybox", "true")
		rmOnCleanup(t, d, other)
		c.run(t, "rename", other, renamed).Fails(t, 1, "is already in use")
		// the old name is free again
		c.ok(t, "create", "--name", old, "busybox", "true")
	})
}
