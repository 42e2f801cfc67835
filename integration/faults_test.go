//go:build linux

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// TestBrokenRuntime: a default runtime that is missing, is not a program or
// fails without a word makes `run` fail at once with an error naming it (or
// its exit), the daemon keeps serving, and a repaired runtime works again.
// (One that hangs is cut off after a minute with "did not finish in time":
// internal/runtime's TestBrokenRuntime checks that without the wait.)
func TestBrokenRuntime(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rt := filepath.Join(dir, "rt")
	script := "#!/bin/sh\ncase \"$(cat " + filepath.Join(dir, "mode") + ")\" in\nfail) exit 1 ;;\n*) exec runc \"$@\" ;;\nesac\n"
	writeRuntime := func(body string) {
		t.Helper()
		if err := os.WriteFile(rt+".new", []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(rt+".new", rt); err != nil {
			t.Fatal(err)
		}
	}
	setMode := func(m string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "mode"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeRuntime(script)
	setMode("ok")
	d := testutil.StartDaemon(t, testutil.WithArgs("--default-runtime", rt))
	d.LoadBusybox(t)
	c := cli{"berth", d}
	for _, tc := range []struct {
		name   string
		break_ func()
		code   int
		want   string
	}{
		{"missing", func() { os.Remove(rt) }, 127, "OCI runtime " + rt + " cannot be run: fork/exec " + rt + ": no such file or directory"},
		{"not a program", func() { writeRuntime("garbage") }, 125, "OCI runtime " + rt + " cannot be run: fork/exec " + rt + ": exec format error"},
		{"fails", func() { setMode("fail") }, 125, "exit status 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.break_()
			start := time.Now()
			c.run(t, "run", "--rm", "busybox", "true").Fails(t, tc.code, tc.want)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("the failure took %s", took)
			}
			writeRuntime(script)
			setMode("ok")
			if got := c.ok(t, "run", "--rm", "busybox", "echo", "repaired"); got != "repaired" {
				t.Errorf("with the runtime repaired: %q", got)
			}
		})
	}
	if got := c.ok(t, "ps", "-aq"); got != "" {
		t.Errorf("failed runs left containers: %q", got)
	}
}

// shimOf returns the container's id and its process's pid, for killShim.
func shimOf(t *testing.T, d *testutil.Daemon, name string) (id string, pid int) {
	t.Helper()
	pid, _ = strconv.Atoi(inspect(t, d, name, "{{.State.Pid}}"))
	return inspect(t, d, name, "{{.Id}}"), pid
}

// killShim kill -9s the shim of container id.
func killShim(t *testing.T, d *testutil.Daemon, id string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(d.ExecRoot, "containers", id, "shim.pid"))
	if err != nil {
		t.Fatal(err)
	}
	shimPid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(shimPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// gone reports whether pid no longer runs (or is a zombie).
func gone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err != nil || strings.Contains(string(data), ") Z ")
}

// TestShimKilled kill -9s a container's shim, while berthd runs and while
// it is down: the container is reported exited 137 with a State.Error that
// says why, its process does not linger, and its restart policy applies (a
// restart failed with "container with given ID already exists", and the
// process ran on, unseen).
func TestShimKilled(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	c := cli{"berth", d}
	plain, always := unique("shimkill"), unique("shimkill-always")
	c.ok(t, "run", "-d", "--name", plain, "busybox", "sleep", "600")
	c.ok(t, "run", "-d", "--name", always, "--restart", "always", "busybox", "sleep", "600")

	check := func(t *testing.T, when string, plainPid, alwaysPid int, restarts string) {
		waitFor(t, 15*time.Second, "the plain container exited", func() bool {
			return inspect(t, d, plain, "{{.State.Status}}") == "exited"
		})
		if got := inspect(t, d, plain, "{{.State.ExitCode}}|{{.State.Error}}"); got != "137|berth-shim exited unexpectedly (killed?): the container was killed" {
			t.Errorf("%s: exit code and error %q", when, got)
		}
		waitFor(t, 15*time.Second, "the --restart always container running again", func() bool {
			return inspect(t, d, always, "{{.State.Status}} {{.RestartCount}}") == "running "+restarts
		})
		for _, pid := range []int{plainPid, alwaysPid} {
			waitFor(t, 10*time.Second, fmt.Sprintf("the old process %d gone", pid), func() bool { return gone(pid) })
		}
		if got := c.ok(t, "exec", always, "echo", "back"); got != "back" {
			t.Errorf("%s: exec in the restarted container: %q", when, got)
		}
		c.ok(t, "start", plain)
		c.ok(t, "exec", plain, "true")
	}

	t.Run("berthd running", func(t *testing.T) {
		id1, p1 := shimOf(t, d, plain)
		id2, p2 := shimOf(t, d, always)
		killShim(t, d, id1)
		killShim(t, d, id2)
		check(t, "berthd running", p1, p2, "1")
	})
	t.Run("berthd down", func(t *testing.T) {
		id1, p1 := shimOf(t, d, plain)
		id2, p2 := shimOf(t, d, always)
		if err := d.Stop(); err != nil {
			t.Fatal(err)
		}
		killShim(t, d, id1)
		killShim(t, d, id2)
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		check(t, "berthd down", p1, p2, "2")
	})
}

// TestGarbledStateQuarantined truncates one container's state file, garbles
// another's and the network state: berthd starts, logs which ones, moves
// them (whole) under <data-root>/quarantine and serves everything else.
func TestGarbledStateQuarantined(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	c := cli{"berth", d}
	truncated, garbled, kept := unique("trunc"), unique("garbled"), unique("kept")
	ids := map[string]string{}
	for _, n := range []string{truncated, garbled, kept} {
		ids[n] = c.ok(t, "create", "--name", n, "busybox", "echo", "alive")
	}
	netName := unique("qnet")
	c.ok(t, "network", "create", netName)
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	cfgPath := func(name string) string { return filepath.Join(d.DataRoot, "containers", ids[name], "config.json") }
	data, err := os.ReadFile(cfgPath(truncated))
	if err != nil {
		t.Fatal(err)
	}
	for path, content := range map[string][]byte{
		cfgPath(truncated): data[:len(data)/3],
		cfgPath(garbled):   []byte("\x00\x01garbage{"),
		filepath.Join(d.DataRoot, "network", "state.json"): []byte(`{"networks": [{"Name": `),
	} {
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{truncated, garbled} {
		if !strings.Contains(d.Log(), `msg="unreadable container state quarantined" id=`+ids[n]) {
			t.Errorf("the log does not name %s (%s) as quarantined", n, ids[n])
		}
		set, _ := filepath.Glob(filepath.Join(d.DataRoot, "quarantine", "containers", ids[n]+".*", "config.json"))
		if len(set) != 1 {
			t.Errorf("%s's folder is not in the quarantine: %v", n, set)
		}
	}
	if !strings.Contains(d.Log(), `msg="unreadable network state quarantined`) {
		t.Error("the log does not say the network state was quarantined")
	}
	if got := c.ok(t, "ps", "-a", "--format", "{{.Names}}"); got != kept {
		t.Errorf("ps -a: %q, want only %s", got, kept)
	}
	if got := c.ok(t, "start", "-a", kept); got != "alive" {
		t.Errorf("start -a of the intact container: %q", got)
	}
	c.run(t, "network", "inspect", netName).Fails(t, 1, "network "+netName+" not found")
	c.ok(t, "network", "create", netName)
	if got := c.ok(t, "run", "--rm", "--network", netName, "busybox", "echo", "networked"); got != "networked" {
		t.Errorf("run on a network made after the quarantine: %q", got)
	}
	c.ok(t, "network", "rm", netName)
}
