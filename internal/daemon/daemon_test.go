package daemon

import (
	"errors"
	"syscall"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/container"
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
	for msg, want := range map[string]int{
		`exec: "nosuch": executable file not found in $PATH`:           127,
		`exec: "/bin/nope": stat /bin/nope: no such file or directory`: 127,
		`exec: "/etc": permission denied`:                              126,
		`unable to apply cgroup configuration`:                         128,
	} {
		if got := startErrorExitCode(errors.New(msg)); got != want {
			t.Errorf("startErrorExitCode(%q) = %d, want %d", msg, got, want)
		}
	}
}

func TestResolveNetworkMode(t *testing.T) {
	for _, tc := range []struct {
		mode string
		nc   *networktypes.NetworkingConfig
		want networkMode
	}{
		{"", nil, networkMode{networks: []string{"bridge"}}},
		{"default", &networktypes.NetworkingConfig{EndpointsConfig: map[string]*networktypes.EndpointSettings{"default": {}}}, networkMode{networks: []string{"bridge"}}},
		{"none", nil, networkMode{none: true}},
		{"host", nil, networkMode{host: true}},
		{"container:web", nil, networkMode{container: "web"}},
		{"dev", &networktypes.NetworkingConfig{EndpointsConfig: map[string]*networktypes.EndpointSettings{"dev": {}, "prod": {}}}, networkMode{networks: []string{"dev", "prod"}}},
	} {
		got := resolveNetworkMode(&containertypes.HostConfig{NetworkMode: containertypes.NetworkMode(tc.mode)}, tc.nc)
		if got.host != tc.want.host || got.none != tc.want.none || got.container != tc.want.container || len(got.networks) != len(tc.want.networks) {
			t.Errorf("%q: got %+v, want %+v", tc.mode, got, tc.want)
			continue
		}
		for i := range got.networks {
			if got.networks[i] != tc.want.networks[i] {
				t.Errorf("%q: networks %v, want %v", tc.mode, got.networks, tc.want.networks)
			}
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

func TestValidateRestartPolicy(t *testing.T) {
	for _, tc := range []struct {
		hc      containertypes.HostConfig
		wantErr bool
	}{
		{containertypes.HostConfig{}, false},
		{containertypes.HostConfig{RestartPolicy: containertypes.RestartPolicy{Name: "always", MaximumRetryCount: 2}}, true},
		{containertypes.HostConfig{RestartPolicy: containertypes.RestartPolicy{Name: "on-failure", MaximumRetryCount: -1}}, true},
		{containertypes.HostConfig{RestartPolicy: containertypes.RestartPolicy{Name: "sometimes"}}, true},
		{containertypes.HostConfig{AutoRemove: true, RestartPolicy: containertypes.RestartPolicy{Name: "always"}}, true},
		{containertypes.HostConfig{AutoRemove: true, RestartPolicy: containertypes.RestartPolicy{Name: "no"}}, false},
	} {
		if err := validateRestartPolicy(&tc.hc); (err != nil) != tc.wantErr {
			t.Errorf("%+v: err = %v, want error %v", tc.hc.RestartPolicy, err, tc.wantErr)
		}
	}
}
