//go:build linux

package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// TestDaemonKill9 kills berthd while a container runs: the container and its
// shim go on, the log keeps growing, and a restarted berthd re-adopts it.
func TestDaemonKill9(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	name := unique("survivor")
	d.Berth(t, "run", "-d", "--name", name, "busybox", "sh", "-c",
		`trap "exit 0" TERM; i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.2; done`).Success(t)
	waitFor(t, 10*time.Second, "tick2 in the logs", func() bool {
		return strings.Contains(d.Berth(t, "logs", name).Stdout, "tick2\n")
	})
	pid := inspect(t, d, name, "{{.State.Pid}}")
	shims := testutil.ShimPids(d.ExecRoot)
	if len(shims) == 0 {
		t.Errorf("no berth-shim process found for exec root %s", d.ExecRoot)
	}

	if err := d.Kill9(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if p, _ := strconv.Atoi(pid); p <= 0 || syscall.Kill(p, 0) != nil {
		t.Fatalf("container process %s died with berthd", pid)
	}
	for _, s := range shims {
		if syscall.Kill(s, 0) != nil {
			t.Errorf("shim %d died with berthd", s)
		}
	}

	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if got := inspect(t, d, name, "{{.State.Running}} {{.State.Pid}}"); got != "true "+pid {
		t.Fatalf("after the restart: %q, want running with pid %s", got, pid)
	}
	logs := d.Berth(t, "logs", name).Success(t).Stdout
	if !strings.HasPrefix(logs, "tick0\ntick1\ntick2\n") {
		t.Errorf("logs lost their start: %.80q", logs)
	}
	// lines written while berthd was down are there (about 7 of them)
	if !strings.Contains(logs, "tick8\n") {
		t.Errorf("logs lack the lines written while berthd was down: %q", logs)
	}
	if got := d.Berth(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}").Success(t).Out(); !strings.HasPrefix(got, "Up ") {
		t.Errorf("ps status after the restart = %q", got)
	}
	// the re-adopted container is fully controllable
	d.Berth(t, "stop", name).Success(t)
	if got := inspect(t, d, name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
		t.Errorf("after stop: %q, want exited 0", got)
	}
	d.Berth(t, "start", name).Success(t)
	d.Berth(t, "rm", "-f", name).Success(t)
}

// TestDaemonDownWhileContainerExits: a container that exits while berthd is
// down is seen as exited, with its code, after the restart; a --rm one is
// removed.
func TestDaemonDownWhileContainerExits(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	name, rmName := unique("exits"), unique("exitsrm")
	// The containers end when the test says so (a file in a bind-mounted
	// folder), after berthd is gone, however slow the machine is.
	sig := t.TempDir()
	const waitGo = "while [ ! -e /sig/go ]; do sleep 0.05; done"
	d.Berth(t, "run", "-d", "--name", name, "-v", sig+":/sig", "busybox", "sh", "-c", "echo started; "+waitGo+"; echo done; exit 5").Success(t)
	d.Berth(t, "run", "-d", "--rm", "--name", rmName, "-v", sig+":/sig", "busybox", "sh", "-c", waitGo).Success(t)
	pid, _ := strconv.Atoi(inspect(t, d, name, "{{.State.Pid}}"))
	if pid <= 0 {
		t.Fatalf("container %s has pid %d, want it running", name, pid)
	}
	waitFor(t, 10*time.Second, "the container's first line in its log", func() bool {
		return d.Berth(t, "logs", name).Stdout == "started\n"
	})
	if err := d.Kill9(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sig, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the container process to exit", func() bool {
		return syscall.Kill(pid, 0) != nil
	})
	time.Sleep(500 * time.Millisecond)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the container to be seen as exited", func() bool {
		return inspect(t, d, name, "{{.State.Status}}") == "exited"
	})
	if got := inspect(t, d, name, "{{.State.ExitCode}} {{.State.Running}}"); got != "5 false" {
		t.Errorf("after the restart: %q, want exit code 5, not running", got)
	}
	if got := d.Berth(t, "wait", name).Success(t).Out(); got != "5" {
		t.Errorf("wait = %q, want 5", got)
	}
	if got := d.Berth(t, "logs", name).Success(t).Stdout; got != "started\ndone\n" {
		t.Errorf("logs = %q, want started and done", got)
	}
	if got := d.Berth(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.Status}}").Success(t).Out(); !strings.HasPrefix(got, "Exited (5) ") {
		t.Errorf("ps status = %q, want Exited (5) ...", got)
	}
	waitFor(t, 10*time.Second, "the --rm container to be removed after the restart", func() bool {
		return d.Berth(t, "inspect", rmName).ExitCode != 0
	})
}

// TestDaemonGracefulRestart: SIGTERM stops berthd but not its containers.
func TestDaemonGracefulRestart(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	name := unique("graceful")
	d.Berth(t, "run", "-d", "--name", name, "busybox", "sleep", "300").Success(t)
	pid := inspect(t, d, name, "{{.State.Pid}}")
	d.Restart(t)
	if _, err := os.Stat(d.Pidfile); err != nil {
		t.Errorf("pidfile after the restart: %v", err)
	}
	if got := inspect(t, d, name, "{{.State.Running}} {{.State.Pid}}"); got != "true "+pid {
		t.Errorf("after a graceful restart: %q, want running with pid %s", got, pid)
	}
	// images survive a restart
	d.Berth(t, "image", "inspect", "busybox").Success(t)
	d.Berth(t, "run", "--rm", "busybox", "true").Success(t)
}

// TestTwoDaemonsOneDataRoot: a second berthd on the same data root refuses
// to start, and the first keeps serving.
func TestTwoDaemonsOneDataRoot(t *testing.T) {
	t.Parallel()
	testutil.RequiresRoot(t)
	first := testutil.StartDaemon(t)
	second, err := testutil.NewDaemon(testutil.WithDataRoot(first.DataRoot))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	start := time.Now()
	err = second.Start()
	if err == nil {
		t.Fatal("a second berthd started on the same data root")
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("the second berthd took %s to refuse", el)
	}
	log := second.Log()
	if !strings.Contains(log, first.DataRoot) {
		t.Errorf("the refusal does not name the data root %s:\n%s", first.DataRoot, log)
	}
	first.Berth(t, "version").Success(t)
	first.Berth(t, "ps").Success(t)
}
