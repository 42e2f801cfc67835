package daemon

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/berth-project/berth/internal/runtime"
)

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    syscall.Signal
		wantErr bool
	}{
		{"", syscall.SIGTERM, false},
		{"SIGKILL", syscall.SIGKILL, false},
		{"kill", syscall.SIGKILL, false},
		{"HUP", syscall.SIGHUP, false},
		{"15", syscall.SIGTERM, false},
		{"0", 0, true},
		{"65", 0, true},
		{"SIGNOPE", 0, true},
	} {
		got, err := parseSignal(tc.in, syscall.SIGTERM)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestStartErrorExitCode(t *testing.T) {
	for err, want := range map[error]int{
		fmt.Errorf("create task: %w", &runtime.ExecError{Failure: runtime.CommandNotFound}):     127,
		fmt.Errorf("create task: %w", &runtime.ExecError{Failure: runtime.CommandNotInvocable}): 126,
		errors.New(`exec: "nosuch": executable file not found in $PATH`):                        128, // text is not a class
	} {
		if got := startErrorExitCode(err); got != want {
			t.Errorf("startErrorExitCode(%v) = %d, want %d", err, got, want)
		}
	}
}
