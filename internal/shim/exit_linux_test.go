package shim

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWaitPidAdoptedLater: a process that becomes our child only after
// waitPid began (its parent outlived the call, as the runtime's
// intermediate processes may on a busy host) is reaped with its status, not
// waited for forever as a zombie that kill(pid, 0) still finds.
func TestWaitPidAdoptedLater(t *testing.T) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("become a subreaper: %v", err)
	}
	t.Cleanup(func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
	// sh starts the grandchild, names it, and lives on a little
	cmd := exec.Command("sh", "-c", `sh -c "sleep 0.5; exit 3" & echo $!; sleep 0.3`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("grandchild pid %q", line)
	}
	done := make(chan unix.WaitStatus, 1)
	go func() {
		ws, err := waitPid(pid) // not our child yet: ECHILD at first
		if err != nil {
			t.Errorf("waitPid: %v", err)
		}
		done <- ws
	}()
	_ = cmd.Wait()
	select {
	case ws := <-done:
		if ws.ExitStatus() != 3 {
			t.Errorf("exit status %d, want 3", ws.ExitStatus())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("waitPid still waiting for a process that exited as our child")
	}
}

// TestStrayZombies: a zombie child named like the runtime's intermediate
// processes is found (and only such a one), so that reapStrays reaps it.
func TestStrayZombies(t *testing.T) {
	// a process named as the runtime's stray: its executable's name
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(truePath)
	if err != nil {
		t.Fatal(err)
	}
	named := filepath.Join(t.TempDir(), "runc:[1:CHILD]")
	if err := os.WriteFile(named, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(named)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	other := exec.Command("sh", "-c", "exit 0")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Wait()
	var found []int
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if found = strayZombies(); len(found) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(found) != 1 || found[0] != cmd.Process.Pid {
		t.Fatalf("strays %v, want only %d", found, cmd.Process.Pid)
	}
	_ = cmd.Wait()
}
