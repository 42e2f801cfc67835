//go:build linux

package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExecOutputAndExitCodes: exec runs in the running container, its
// output comes back, and the CLIs exit with the process's code.
func TestExecOutputAndExitCodes(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("exec")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "-e", "CVAR=from-container", "-e", "OVER=container", "-w", "/tmp", "busybox", "sleep", "300")

		if got := c.ok(t, "exec", name, "echo", "hi"); got != "hi" {
			t.Errorf("exec echo hi = %q", got)
		}
		c.run(t, "exec", name, "sh", "-c", "exit 3").Fails(t, 3)
		r := c.run(t, "exec", name, "sh", "-c", "echo out; echo err >&2; exit 7").Fails(t, 7)
		if strings.TrimSpace(r.Stdout) != "out" || strings.TrimSpace(r.Stderr) != "err" {
			t.Errorf("stdout %q stderr %q, want out and err apart", r.Stdout, r.Stderr)
		}

		// env: the container's, overridden and extended by -e
		if got := c.ok(t, "exec", "-e", "OVER=exec", "-e", "NEW=1", name, "sh", "-c", `echo "$CVAR $OVER $NEW $HOSTNAME"`); !strings.HasPrefix(got, "from-container exec 1 ") || strings.HasSuffix(got, " ") {
			t.Errorf("exec env = %q, want the container's env merged with -e", got)
		}
		// workdir and user default to the container's
		if got := c.ok(t, "exec", name, "pwd"); got != "/tmp" {
			t.Errorf("default workdir %q, want the container's /tmp", got)
		}
		if got := c.ok(t, "exec", "-w", "/etc", name, "pwd"); got != "/etc" {
			t.Errorf("-w /etc: pwd %q", got)
		}
		if got := c.ok(t, "exec", name, "id", "-u"); got != "0" {
			t.Errorf("default user %q, want 0", got)
		}
		if got := c.ok(t, "exec", "-u", "nobody", name, "id"); !strings.Contains(got, "uid=65534(nobody)") {
			t.Errorf("-u nobody: id %q", got)
		}
		if got := c.ok(t, "exec", "-u", "1234:5678", name, "id", "-u"); got != "1234" {
			t.Errorf("-u 1234:5678: id -u %q", got)
		}
	})
}

// TestExecStdin: -i hands the client's stdin to the process, and its end is
// the process's EOF; without -i the process reads nothing.
func TestExecStdin(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("execin")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		if got := c.runStdin(t, "x\ny\n", "exec", "-i", name, "cat").Success(t).Out(); got != "x\ny" {
			t.Errorf("echo x | exec -i cat = %q", got)
		}
		if got := c.runStdin(t, "x\n", "exec", name, "cat").Success(t).Out(); got != "" {
			t.Errorf("exec cat without -i read %q", got)
		}
	})
}

// TestExecDetached: -d returns at once and the process runs on.
func TestExecDetached(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("execd")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		start := time.Now()
		if out := c.ok(t, "exec", "-d", name, "sh", "-c", "sleep 1; echo done > /tmp/mark"); out != "" {
			t.Errorf("exec -d printed %q", out)
		}
		if time.Since(start) > 900*time.Millisecond {
			t.Errorf("exec -d took %s: it must not wait for the process", time.Since(start))
		}
		waitFor(t, 10*time.Second, "the detached exec's file", func() bool {
			return c.run(t, "exec", name, "cat", "/tmp/mark").Out() == "done"
		})
	})
}

// TestExecRefusals: a stopped container is refused with docker's message,
// and a command that cannot run exits 127 or 126.
func TestExecRefusals(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		stopped := unique("execstopped")
		rmOnCleanup(t, d, stopped)
		c.ok(t, "run", "--name", stopped, "busybox", "true")
		id := inspect(t, d, stopped, "{{.Id}}")
		c.run(t, "exec", stopped, "echo", "hi").Fails(t, 1, "Error response from daemon: container "+id+" is not running")
		c.run(t, "exec", "it-no-such-container", "echo").Fails(t, 1, "No such container: it-no-such-container")

		name := unique("execfail")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		r := c.run(t, "exec", name, "nosuchcmd").Fails(t, 127)
		if !strings.Contains(r.Combined(), `exec: "nosuchcmd": executable file not found in $PATH`) {
			t.Errorf("missing command: output %q lacks the runtime's message", r.Combined())
		}
		c.run(t, "exec", name, "/etc").Fails(t, 126)
		// the container is unharmed
		if got := c.ok(t, "exec", name, "echo", "still"); got != "still" {
			t.Errorf("after failed execs: %q", got)
		}
	})
}

// TestExecTTY: exec -it gives the process a terminal of the client's size.
func TestExecTTY(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("exectty")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		tm := startTerm(t, c.cmd("exec", "-it", name, "sh"), 24, 80)
		mark := tm.expect(0, "# ")
		tm.send("echo hi-$((40+2))\r")
		mark = tm.expect(mark, "hi-42")
		tm.send("stty size\r")
		mark = tm.expect(mark, "24 80")
		tm.send("tty\r")
		mark = tm.expect(mark, "/dev/pts/")
		tm.send("exit 4\r")
		if code := tm.exit(); code != 4 {
			t.Errorf("exec -it ended with %d, want the shell's 4; the terminal showed:\n%q", code, tm.screen())
		}
		_ = mark
		if got := inspect(t, d, name, "{{.State.Running}}"); got != "true" {
			t.Errorf("after the exec, Running = %q", got)
		}
	})
}

// TestExecPrivileged: --privileged gives the exec every capability (here
// CAP_SYS_ADMIN, bit 21) that the container itself lacks.
func TestExecPrivileged(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("execpriv")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		capEff := func(args ...string) uint64 {
			t.Helper()
			out := c.ok(t, append(append([]string{"exec"}, args...), name, "sh", "-c", "grep CapEff /proc/self/status")...)
			v, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(out, "CapEff:")), 16, 64)
			if err != nil {
				t.Fatalf("CapEff %q: %v", out, err)
			}
			return v
		}
		const sysAdmin = 1 << 21
		if plain := capEff(); plain&sysAdmin != 0 {
			t.Errorf("a plain exec has CAP_SYS_ADMIN: %x", plain)
		}
		if priv := capEff("--privileged"); priv&sysAdmin == 0 {
			t.Errorf("exec --privileged lacks CAP_SYS_ADMIN: %x", priv)
		}
	})
}
