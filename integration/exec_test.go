//go:build linux

package integration

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	containertypes "github.com/moby/moby/api/types/container"
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
		if out := c.ok(t, "exec", "-d", name, "sh", "-c", "sleep 4; echo done > /tmp/mark"); out != "" {
			t.Errorf("exec -d printed %q", out)
		}
		if took := time.Since(start); took > 3500*time.Millisecond {
			t.Errorf("exec -d took %s: it must not wait for the process", took)
		}
		if got := c.run(t, "exec", name, "cat", "/tmp/mark").Out(); got == "done" {
			t.Errorf("the detached process had already finished when exec -d returned")
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
		// runc's words, or crun's
		if !strings.Contains(r.Combined(), `exec: "nosuchcmd": executable file not found in $PATH`) && !strings.Contains(r.Combined(), "executable file `nosuchcmd` not found in $PATH") {
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
		// a resize of the client's terminal reaches the exec's
		if err := pty.Setsize(tm.ptmx, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		tm.send("stty size\r")
		mark = tm.expect(mark, "30 100")
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

		// Ctrl-P Ctrl-Q detaches from the exec, whose shell runs on
		tm = startTerm(t, c.cmd("exec", "-it", name, "sh"), 24, 80)
		tm.expect(0, "# ")
		tm.send("\x10\x11")
		if code := tm.exit(); code != 1 || !strings.Contains(tm.screen(), "read escape sequence") {
			t.Errorf("detach from exec exited %d, want 1 and \"read escape sequence\"; the terminal showed:\n%q", code, tm.screen())
		}
		waitFor(t, 5*time.Second, "the detached shell still running", func() bool {
			for _, l := range lines(c.ok(t, "exec", name, "ps", "-o", "args")) {
				if strings.TrimSpace(l) == "sh" {
					return true
				}
			}
			return false
		})
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

// TestExecAPI: the exec endpoints' statuses and inspect, as dockerd answers.
func TestExecAPI(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	name := unique("execapi")
	rmOnCleanup(t, d, name)
	d.Berth(t, "run", "-d", "--name", name, "busybox", "sleep", "300").Success(t)
	id := inspect(t, d, name, "{{.Id}}")

	status, _, body := apiCall(t, d, "POST", "/containers/"+name+"/exec", `{"Cmd":["sh","-c","exit 6"],"User":"0"}`)
	if status != http.StatusCreated {
		t.Fatalf("exec create: %d %s", status, body)
	}
	var created containertypes.ExecCreateResponse
	if err := json.Unmarshal([]byte(body), &created); err != nil || !fullID.MatchString(created.ID) {
		t.Fatalf("exec create body %q", body)
	}
	status, _, body = apiCall(t, d, "POST", "/exec/"+created.ID+"/start", `{"Detach":true}`)
	if status != http.StatusOK {
		t.Fatalf("exec start detached: %d %s", status, body)
	}
	var insp containertypes.ExecInspectResponse
	waitFor(t, 10*time.Second, "the exec's exit", func() bool {
		_, _, body = apiCall(t, d, "GET", "/exec/"+created.ID+"/json", "")
		insp = containertypes.ExecInspectResponse{}
		return json.Unmarshal([]byte(body), &insp) == nil && insp.ExitCode != nil
	})
	if *insp.ExitCode != 6 || insp.Running || insp.ContainerID != id || insp.ID != created.ID || insp.Pid <= 0 ||
		insp.ProcessConfig == nil || insp.ProcessConfig.Entrypoint != "sh" || strings.Join(insp.ProcessConfig.Arguments, " ") != "-c exit 6" || insp.ProcessConfig.User != "0" {
		t.Errorf("exec inspect %s", body)
	}
	// an exec runs once
	if status, _, body = apiCall(t, d, "POST", "/exec/"+created.ID+"/start", `{"Detach":true}`); status != http.StatusConflict {
		t.Errorf("second start: %d %s, want 409", status, body)
	}
	if status, _, body = apiCall(t, d, "POST", "/exec/"+created.ID+"/resize?h=10&w=20", ""); status != http.StatusOK {
		t.Errorf("resize: %d %s", status, body)
	}
	for _, path := range []string{"/exec/nosuch/json"} {
		if status, _, body = apiCall(t, d, "GET", path, ""); status != http.StatusNotFound {
			t.Errorf("GET %s: %d %s, want 404", path, status, body)
		}
	}
	if status, _, body = apiCall(t, d, "POST", "/exec/nosuch/start", `{"Detach":true}`); status != http.StatusNotFound {
		t.Errorf("start of an unknown exec: %d %s, want 404", status, body)
	}
	if status, _, body = apiCall(t, d, "POST", "/containers/it-no-such/exec", `{"Cmd":["true"]}`); status != http.StatusNotFound {
		t.Errorf("exec in an unknown container: %d %s, want 404", status, body)
	}
	if status, _, body = apiCall(t, d, "POST", "/containers/"+name+"/exec", `{"Cmd":[]}`); status != http.StatusBadRequest {
		t.Errorf("exec without a command: %d %s, want 400", status, body)
	}
	d.Berth(t, "kill", name).Success(t)
	status, _, body = apiCall(t, d, "POST", "/containers/"+name+"/exec", `{"Cmd":["true"]}`)
	if status != http.StatusConflict || errorMessage(t, body) != "container "+id+" is not running" {
		t.Errorf("exec in a stopped container: %d %s, want 409 with docker's message", status, body)
	}
}
