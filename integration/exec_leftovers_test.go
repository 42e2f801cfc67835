//go:build linux

package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
)

// TestExecAfterDaemonRestart: exec sessions live in berthd's memory, as in
// dockerd, whose exec configs do not survive its restart: a session that
// was running is unknown (404) to the next berthd, after a clean stop and
// after kill -9, while its process, run by the shim, goes on.
func TestExecAfterDaemonRestart(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	name := unique("execrestart")
	d.Berth(t, "run", "-d", "--name", name, "busybox", "sleep", "300").Success(t)
	t.Cleanup(func() { d.Berth(t, "rm", "-f", name) })

	for _, stop := range []struct {
		how string
		do  func() error
	}{{"stop", d.Stop}, {"kill -9", d.Kill9}} {
		marker := fmt.Sprintf("sleep %d", 3000+len(stop.how)) // one per round
		status, _, body := apiCall(t, d, "POST", "/containers/"+name+"/exec", fmt.Sprintf(`{"Cmd":["%s"]}`, strings.Replace(marker, " ", `","`, 1)))
		if status != http.StatusCreated {
			t.Fatalf("exec create: %d %s", status, body)
		}
		var created containertypes.ExecCreateResponse
		if err := json.Unmarshal([]byte(body), &created); err != nil {
			t.Fatal(err)
		}
		if status, _, body = apiCall(t, d, "POST", "/exec/"+created.ID+"/start", `{"Detach":true}`); status != http.StatusOK {
			t.Fatalf("exec start: %d %s", status, body)
		}
		_, _, body = apiCall(t, d, "GET", "/exec/"+created.ID+"/json", "")
		var insp containertypes.ExecInspectResponse
		if err := json.Unmarshal([]byte(body), &insp); err != nil || !insp.Running {
			t.Fatalf("exec before the restart: %s", body)
		}
		if err := stop.do(); err != nil {
			t.Fatal(err)
		}
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		if status, _, body = apiCall(t, d, "GET", "/exec/"+created.ID+"/json", ""); status != http.StatusNotFound || errorMessage(t, body) != "No such exec instance: "+created.ID {
			t.Errorf("after %s: GET /exec/{id}/json = %d %s, want docker's 404", stop.how, status, body)
		}
		if status, _, _ = apiCall(t, d, "POST", "/exec/"+created.ID+"/start", `{"Detach":true}`); status != http.StatusNotFound {
			t.Errorf("after %s: start of the old exec = %d, want 404", stop.how, status)
		}
		// the process itself was the shim's and runs on in the container
		if ps := d.Berth(t, "exec", name, "ps", "-o", "args").Success(t).Stdout; !strings.Contains(ps, marker) {
			t.Errorf("after %s: the exec'd process is gone:\n%s", stop.how, ps)
		}
	}
}

// TestExecEndsWithItsContainer: an exec streaming its output when its
// container is killed ends with it, in both CLIs, and berthd keeps no file
// descriptor of it.
func TestExecEndsWithItsContainer(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	fds := func() int {
		entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.Pid()))
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("execdies")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		time.Sleep(300 * time.Millisecond)
		before := fds()
		for range 3 {
			cmd := c.cmd("exec", "-i", name, "sh", "-c", "while true; do echo tick; sleep 0.1; done")
			out := &syncBuffer{}
			cmd.Stdout = out
			stdin, err := cmd.StdinPipe() // held open: the exec streams both ways
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "the exec's output", func() bool { return strings.Contains(out.String(), "tick") })
			c.ok(t, "kill", name)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("exec still streaming after its container was killed")
			}
			stdin.Close()
			c.ok(t, "start", name)
		}
		waitFor(t, 10*time.Second, "berthd's descriptors back to their count", func() bool { return fds() <= before })
	})
}

// TestExecDetachKeysWithoutTTY: without -t, docker leaves the detach keys
// alone: they reach the process as any input, and the exec ends with it.
func TestExecDetachKeysWithoutTTY(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("execkeys")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		r := c.runStdin(t, "a\x10\x11b\n", "exec", "-i", name, "od", "-An", "-c").Success(t)
		if got := strings.Join(strings.Fields(r.Stdout), " "); got != `a 020 021 b \n` {
			t.Errorf("ctrl-p ctrl-q without -t reached the process as %q", got)
		}
		r = c.runStdin(t, "x\x18y\n", "exec", "-i", "--detach-keys", "ctrl-x", name, "od", "-An", "-c").Success(t)
		if got := strings.Join(strings.Fields(r.Stdout), " "); got != `x 030 y \n` {
			t.Errorf("--detach-keys ctrl-x without -t reached the process as %q", got)
		}
	})
}
