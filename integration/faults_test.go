//go:build linux

package integration

import (
	"fmt"
	"os"
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

// TestSecondDaemonRefused starts a second berthd that would share the
// running one's bridge, nftables table or exec root: it refuses to start,
// naming the running daemon's pid, and the running one keeps working (two
// daemons on one table deleted each other's bridges and veths at boot).
func TestSecondDaemonRefused(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	for _, tc := range []struct {
		name  string
		share func(second *testutil.Daemon)
		want  string
	}{
		{"bridge", func(s *testutil.Daemon) { s.Net.Bridge = d.Net.Bridge }, `already using bridge "` + d.Net.Bridge + `"`},
		{"table", func(s *testutil.Daemon) { s.Net.Table = d.Net.Table }, `already using nftables table "` + d.Net.Table + `"`},
		{"exec root", func(s *testutil.Daemon) { s.ExecRoot = d.ExecRoot }, "already using exec root " + d.ExecRoot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			second, err := testutil.NewDaemon(tc.share)
			if err != nil {
				t.Fatal(err)
			}
			// not second.Close: it would remove the shared bridge or table
			defer os.RemoveAll(second.Root)
			err = second.Start()
			if err == nil {
				second.Stop()
				t.Fatal("a second berthd sharing the first one's " + tc.name + " started")
			}
			want := fmt.Sprintf("another berthd (pid %d) is %s", d.Pid(), tc.want)
			if !strings.Contains(second.Log(), want) {
				t.Errorf("second berthd's log does not say %q:\n%s", want, second.LogTail(10))
			}
		})
	}
	if got := (cli{"berth", d}).ok(t, "run", "--rm", "busybox", "sh", "-c", "ip -4 addr show eth0 | grep -c inet"); got != "1" {
		t.Errorf("the first daemon's container has %q addresses on eth0, want 1", got)
	}
}
