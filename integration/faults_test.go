//go:build linux

package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// longRoots puts the daemon's data root and exec root deep below its
// folder, so that <exec-root>/containers/<id>/shim.sock is far past the
// 108 bytes of a unix socket path.
func longRoots(d *testutil.Daemon) {
	deep := strings.Repeat("a-rather-long-folder-name/", 6)
	d.DataRoot = filepath.Join(d.Root, deep, "data")
	d.ExecRoot = filepath.Join(d.Root, deep, "exec")
}

// TestLongRoots runs, attaches to, execs in, re-adopts after a restart and
// stops containers of a daemon whose roots are longer than a unix socket
// path may be (dockerd and containerd work there; berth refused every start
// with "state directory ... is too long for a unix socket").
func TestLongRoots(t *testing.T) {
	t.Parallel()
	d := testutil.StartDaemon(t, longRoots)
	d.LoadBusybox(t)
	if n := len(filepath.Join(d.ExecRoot, "containers", strings.Repeat("0", 64), "shim.sock")); n < 150 {
		t.Fatalf("socket path is only %d bytes: the test proves nothing", n)
	}
	c := cli{"berth", d}
	if got := c.ok(t, "run", "--rm", "busybox", "echo", "hello"); got != "hello" {
		t.Errorf("run --rm: %q, want hello", got)
	}
	name := unique("longroot")
	c.ok(t, "run", "-d", "-t", "--name", name, "busybox", "sh", "-c", "echo started; exec sleep 600")
	if got := c.ok(t, "exec", name, "echo", "in-exec"); got != "in-exec" {
		t.Errorf("exec: %q, want in-exec", got)
	}
	d.Restart(t)
	if got := inspect(t, d, name, "{{.State.Status}}"); got != "running" {
		t.Fatalf("after a daemon restart the container is %q, want running (re-adopted)", got)
	}
	waitFor(t, 10*time.Second, "the log", func() bool { return strings.Contains(c.ok(t, "logs", name), "started") })
	c.ok(t, "stop", "-t", "1", name)
	if got := inspect(t, d, name, "{{.State.Status}}"); got != "exited" {
		t.Errorf("after stop: %q, want exited", got)
	}
	c.ok(t, "rm", name)
}
