package daemon

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
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

func TestRestartPolicy(t *testing.T) {
	policy := func(name containertypes.RestartPolicyMode, max int) *container.Container {
		return &container.Container{HostConfig: &containertypes.HostConfig{RestartPolicy: containertypes.RestartPolicy{Name: name, MaximumRetryCount: max}}}
	}
	for _, tc := range []struct {
		name     string
		c        *container.Container
		restarts int
		code     int
		stopped  bool
		want     bool
	}{
		{"no", policy(containertypes.RestartPolicyDisabled, 0), 0, 1, false, false},
		{"always on success", policy(containertypes.RestartPolicyAlways, 0), 5, 0, false, true},
		{"always after a manual stop", policy(containertypes.RestartPolicyAlways, 0), 0, 137, true, false},
		{"unless-stopped", policy(containertypes.RestartPolicyUnlessStopped, 0), 0, 0, false, true},
		{"on-failure with failure", policy(containertypes.RestartPolicyOnFailure, 3), 2, 1, false, true},
		{"on-failure out of retries", policy(containertypes.RestartPolicyOnFailure, 3), 3, 1, false, false},
		{"on-failure on success", policy(containertypes.RestartPolicyOnFailure, 0), 0, 0, false, false},
	} {
		tc.c.RestartCount, tc.c.ManuallyStopped = tc.restarts, tc.stopped
		if got := shouldRestart(tc.c, tc.code); got != tc.want {
			t.Errorf("%s: shouldRestart = %v, want %v", tc.name, got, tc.want)
		}
	}

	c := policy(containertypes.RestartPolicyAlways, 0)
	now := time.Now()
	c.State.StartedAt, c.State.FinishedAt = now, now.Add(time.Second)
	for restarts, want := range map[int]time.Duration{0: 100 * time.Millisecond, 1: 200 * time.Millisecond, 3: 800 * time.Millisecond, 20: time.Minute} {
		c.RestartCount = restarts
		if got := restartDelay(c); got != want {
			t.Errorf("restartDelay after %d restarts = %v, want %v", restarts, got, want)
		}
	}
	c.RestartCount, c.State.FinishedAt = 20, now.Add(time.Minute)
	if got := restartDelay(c); got != minRestartDelay {
		t.Errorf("restartDelay after a long run = %v, want %v", got, minRestartDelay)
	}
}
