package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRunExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--", "sh", "-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "true"}, 0},
		{[]string{"--", "sh", "-c", "kill -TERM $$"}, 128 + 15},
		{[]string{"--", "berth-init-no-such-command"}, 127},
		{[]string{"--"}, 1},
	} {
		if got := run(tc.args); got != tc.want {
			t.Errorf("run(%q) = %d, want %d", tc.args, got, tc.want)
		}
	}
}

// The init forwards what it receives to the command, which exits on it.
func TestRunForwardsSignals(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	go func() {
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(ready); err == nil {
				_ = sendSelf()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	got := run([]string{"--", "sh", "-c", "trap 'exit 42' USR1; touch " + ready + "; while true; do sleep 0.1; done"})
	if got != 42 {
		t.Errorf("exit %d, want the trap's 42", got)
	}
}

// Orphans re-parented to the init (a subreaper here) are reaped: none is
// left a zombie once the command exits.
func TestRunReapsOrphans(t *testing.T) {
	if got := run([]string{"--", "sh", "-c", "(sleep 0.2 &); sleep 0.5"}); got != 0 {
		t.Fatalf("exit %d", got)
	}
	// the orphan exited before the command: reaped when the init saw SIGCHLD
	children, _ := filepath.Glob("/proc/self/task/*/children")
	for _, c := range children {
		if b, _ := os.ReadFile(c); len(b) > 0 {
			t.Errorf("children left: %s", b)
		}
	}
}
