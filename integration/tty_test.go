//go:build linux

package integration

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// term is a command running on a pseudo-terminal, with everything it
// printed kept for matching.
type term struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
	// drained is closed when reading the pty fails: after the command
	// exited, once everything it printed has been read
	drained chan struct{}
}

func startTerm(t *testing.T, cmd *exec.Cmd, rows, cols uint16) *term {
	t.Helper()
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatalf("start %v on a pty: %v", cmd.Args, err)
	}
	tm := &term{t: t, cmd: cmd, ptmx: ptmx, done: make(chan error, 1), drained: make(chan struct{})}
	go func() {
		defer close(tm.drained)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { tm.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		ptmx.Close()
	})
	return tm
}

// send types s.
func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.ptmx, s); err != nil {
		tm.t.Fatalf("write to the pty: %v", err)
	}
}

// expect waits until the output holds want, after the mark from a previous
// expect, and returns where it ended.
func (tm *term) expect(from int, want string) int {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		tm.mu.Lock()
		s := tm.out.String()
		tm.mu.Unlock()
		if from <= len(s) {
			if i := strings.Index(s[from:], want); i >= 0 {
				return from + i + len(want)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.t.Fatalf("the terminal did not show %q within 20s; it showed:\n%q", want, tm.out.String())
	return 0
}

// screen is everything the terminal showed.
func (tm *term) screen() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// exit waits for the command to end and returns its exit code.
func (tm *term) exit() int {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		select {
		case <-tm.drained:
		case <-time.After(2 * time.Second):
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			tm.t.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(20 * time.Second):
		tm.mu.Lock()
		defer tm.mu.Unlock()
		tm.t.Fatalf("the command did not exit within 20s; the terminal showed:\n%q", tm.out.String())
		return -1
	}
}

func TestRunInteractiveTTY(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("tty")
		rmOnCleanup(t, d, name)
		tm := startTerm(t, c.cmd("run", "-it", "--name", name, "busybox", "sh"), 24, 80)

		// the shell echoes what is typed and runs it; $((..)) tells output from echo
		mark := tm.expect(0, "# ")
		tm.send("echo hi-$((40+2))\r")
		mark = tm.expect(mark, "hi-42")
		// window size is passed, and so are resizes
		tm.send("stty size\r")
		mark = tm.expect(mark, "24 80")
		if err := pty.Setsize(tm.ptmx, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		tm.send("stty size\r")
		mark = tm.expect(mark, "30 100")
		tm.send("tty\r")
		tm.expect(mark, "/dev/pts/")

		// Ctrl-P Ctrl-Q detaches and leaves the container running
		tm.send("\x10\x11")
		if code := tm.exit(); code != 0 {
			t.Errorf("detach exited %d, want 0; the terminal showed:\n%q", code, tm.screen())
		}
		if got := inspect(t, d, name, "{{.State.Running}}"); got != "true" {
			t.Fatalf("after detaching, Running = %q, want true", got)
		}

		// attach brings the same shell back
		at := startTerm(t, c.cmd("attach", name), 24, 80)
		time.Sleep(300 * time.Millisecond)
		at.send("echo back-$((2+3))\r")
		at.expect(0, "back-5")
		// detaching from attach exits 1 with docker's "read escape sequence"
		at.send("\x10\x11")
		if code := at.exit(); code != 1 || !strings.Contains(at.screen(), "read escape sequence") {
			t.Errorf("detach from attach exited %d, want 1 and \"read escape sequence\"; the terminal showed:\n%q", code, at.screen())
		}
		at = startTerm(t, c.cmd("attach", name), 24, 80)
		time.Sleep(300 * time.Millisecond)
		at.send("echo again-$((3+4))\r")
		at.expect(0, "again-7")
		at.send("exit 5\r")
		if code := at.exit(); code != 5 {
			t.Errorf("attach ended with %d, want the shell's exit code 5; the terminal showed:\n%q", code, at.screen())
		}
		if got := inspect(t, d, name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 5" {
			t.Errorf("after exit: %q, want exited 5", got)
		}
	})
}

func TestDetachKeys(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("keys")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-dit", "--name", name, "busybox", "sh")
		at := startTerm(t, c.cmd("attach", "--detach-keys", "ctrl-x", name), 24, 80)
		time.Sleep(300 * time.Millisecond)
		at.send("echo keys-$((1+1))\r")
		at.expect(0, "keys-2")
		at.send("\x18")
		if code := at.exit(); code != 1 || !strings.Contains(at.screen(), "read escape sequence") {
			t.Errorf("detach with ctrl-x exited %d, want 1 and \"read escape sequence\"; the terminal showed:\n%q", code, at.screen())
		}
		if got := inspect(t, d, name, "{{.State.Running}}"); got != "true" {
			t.Errorf("after ctrl-x detach, Running = %q", got)
		}
	})
}
