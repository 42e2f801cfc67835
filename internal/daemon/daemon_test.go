package daemon

import (
	"errors"
	"syscall"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"
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
