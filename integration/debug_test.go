//go:build linux

package integration

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

// TestDebugSocket checks berthd's debug mode (test daemons run with -D):
// pprof answers on the root-only <exec-root>/debug.sock and not on the API
// socket, and `info` shows debug mode with the engine's goroutines and
// fds, through berth and the docker CLI. Without -D there is no debug
// socket.
func TestDebugSocket(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	n, err := d.Goroutines()
	if err != nil || n <= 0 {
		t.Fatalf("goroutines from the debug socket: %d, %v", n, err)
	}
	fi, err := os.Stat(d.DebugSock())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", d.DebugSock(), fi.Mode().Perm())
	}
	resp, err := testutil.UnixHTTPClient(d.Sock).Get("http://berthd/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("the API socket serves pprof: %s\n%.200s", resp.Status, body)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		out := c.ok(t, "info")
		for _, want := range []string{"Debug Mode: true", "Goroutines:", "File Descriptors:", "EventsListeners:"} {
			if !strings.Contains(out, want) {
				t.Errorf("info lacks %q:\n%s", want, out)
			}
		}
	})
}

// TestDebugSocketOnlyWithDebug starts berthd without -D: no debug socket,
// and info says debug mode is off.
func TestDebugSocketOnlyWithDebug(t *testing.T) {
	t.Parallel()
	d := testutil.StartDaemon(t, testutil.WithoutDebug())
	if _, err := os.Stat(d.DebugSock()); !os.IsNotExist(err) {
		t.Errorf("berthd without -D made %s: %v", d.DebugSock(), err)
	}
	if out := d.Berth(t, "info").Success(t).Out(); !strings.Contains(out, "Debug Mode: false\n") || strings.Contains(out, "Debug Mode: true") {
		t.Errorf("info without -D:\n%s", out)
	}
}
