package tasks

import (
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
)

func TestShouldRestart(t *testing.T) {
	policy := func(name containertypes.RestartPolicyMode, max int) containertypes.RestartPolicy {
		return containertypes.RestartPolicy{Name: name, MaximumRetryCount: max}
	}
	for _, tc := range []struct {
		name     string
		p        containertypes.RestartPolicy
		restarts int
		code     int
		stopped  bool
		want     bool
	}{
		{"no", policy(containertypes.RestartPolicyDisabled, 0), 0, 1, false, false},
		{"empty is no", policy("", 0), 0, 1, false, false},
		{"always on success", policy(containertypes.RestartPolicyAlways, 0), 5, 0, false, true},
		{"always after a manual stop", policy(containertypes.RestartPolicyAlways, 0), 0, 137, true, false},
		{"unless-stopped", policy(containertypes.RestartPolicyUnlessStopped, 0), 0, 0, false, true},
		{"unless-stopped after a manual stop", policy(containertypes.RestartPolicyUnlessStopped, 0), 0, 143, true, false},
		{"on-failure with failure", policy(containertypes.RestartPolicyOnFailure, 3), 2, 1, false, true},
		{"on-failure out of retries", policy(containertypes.RestartPolicyOnFailure, 3), 3, 1, false, false},
		{"on-failure unbounded", policy(containertypes.RestartPolicyOnFailure, 0), 100, 1, false, true},
		{"on-failure on success", policy(containertypes.RestartPolicyOnFailure, 0), 0, 0, false, false},
	} {
		if got := ShouldRestart(tc.p, tc.stopped, tc.restarts, tc.code); got != tc.want {
			t.Errorf("%s: ShouldRestart = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRestartDelay(t *testing.T) {
	for _, tc := range []struct {
		restarts int
		ran      time.Duration
		want     time.Duration
	}{
		{0, time.Second, 100 * time.Millisecond},
		{1, time.Second, 200 * time.Millisecond},
		{3, time.Second, 800 * time.Millisecond},
		{9, time.Second, 51200 * time.Millisecond},
		{10, time.Second, time.Minute},
		{1000, time.Second, time.Minute},
		{20, 10 * time.Second, MinRestartDelay}, // a long run resets the back-off
	} {
		if got := RestartDelay(tc.restarts, tc.ran); got != tc.want {
			t.Errorf("RestartDelay(%d, %v) = %v, want %v", tc.restarts, tc.ran, got, tc.want)
		}
	}
}

func TestStartsOnBoot(t *testing.T) {
	for _, tc := range []struct {
		name    containertypes.RestartPolicyMode
		stopped bool
		want    bool
	}{
		{containertypes.RestartPolicyAlways, false, true},
		{containertypes.RestartPolicyAlways, true, true}, // a manual stop lasts until the daemon restarts
		{containertypes.RestartPolicyUnlessStopped, false, true},
		{containertypes.RestartPolicyUnlessStopped, true, false},
		{containertypes.RestartPolicyOnFailure, false, false},
		{containertypes.RestartPolicyDisabled, false, false},
	} {
		if got := StartsOnBoot(containertypes.RestartPolicy{Name: tc.name}, tc.stopped); got != tc.want {
			t.Errorf("StartsOnBoot(%s, stopped=%v) = %v, want %v", tc.name, tc.stopped, got, tc.want)
		}
	}
}
