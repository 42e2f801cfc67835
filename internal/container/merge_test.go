package container

import (
	"reflect"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func image(c ocispec.ImageConfig) *dockerspec.DockerOCIImageConfig {
	return &dockerspec.DockerOCIImageConfig{ImageConfig: c}
}

func TestMergeConfigCommand(t *testing.T) {
	img := image(ocispec.ImageConfig{Entrypoint: []string{"/entry", "-x"}, Cmd: []string{"serve", "--port=80"}})
	noEntry := image(ocispec.ImageConfig{Cmd: []string{"sh"}})
	tests := []struct {
		name      string
		img       *dockerspec.DockerOCIImageConfig
		req       containertypes.Config
		wantEntry []string
		wantCmd   []string
		wantPath  string
		wantArgs  []string
	}{
		{"image defaults", img, containertypes.Config{}, []string{"/entry", "-x"}, []string{"serve", "--port=80"}, "/entry", []string{"-x", "serve", "--port=80"}},
		{"cmd override keeps entrypoint", img, containertypes.Config{Cmd: []string{"debug"}}, []string{"/entry", "-x"}, []string{"debug"}, "/entry", []string{"-x", "debug"}},
		{"entrypoint override drops image cmd", img, containertypes.Config{Entrypoint: []string{"/bin/sh"}}, []string{"/bin/sh"}, nil, "/bin/sh", []string{}},
		{"entrypoint and cmd", img, containertypes.Config{Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", "echo hi"}}, []string{"/bin/sh"}, []string{"-c", "echo hi"}, "/bin/sh", []string{"-c", "echo hi"}},
		{"empty-string entrypoint with cmd", img, containertypes.Config{Entrypoint: []string{""}, Cmd: []string{"ls", "-l"}}, nil, []string{"ls", "-l"}, "ls", []string{"-l"}},
		{"empty list entrypoint resets it but keeps cmd", img, containertypes.Config{Entrypoint: []string{}}, []string{}, []string{"serve", "--port=80"}, "serve", []string{"--port=80"}},
		{"no entrypoint image", noEntry, containertypes.Config{}, nil, []string{"sh"}, "sh", []string{}},
		{"no entrypoint image cmd override", noEntry, containertypes.Config{Cmd: []string{"echo", "a b"}}, nil, []string{"echo", "a b"}, "echo", []string{"a b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergeConfig(tc.img, &tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Entrypoint, tc.wantEntry) || !reflect.DeepEqual(got.Cmd, tc.wantCmd) {
				t.Errorf("entrypoint %q cmd %q, want %q %q", got.Entrypoint, got.Cmd, tc.wantEntry, tc.wantCmd)
			}
			path, args := Process(got)
			if path != tc.wantPath || !reflect.DeepEqual(args, tc.wantArgs) {
				t.Errorf("process %q %q, want %q %q", path, args, tc.wantPath, tc.wantArgs)
			}
		})
	}
}

func TestMergeConfigNoCommand(t *testing.T) {
	for name, tc := range map[string]struct {
		img *dockerspec.DockerOCIImageConfig
		req *containertypes.Config
	}{
		"empty image":                 {image(ocispec.ImageConfig{}), &containertypes.Config{}},
		"empty-string entrypoint":     {image(ocispec.ImageConfig{Cmd: []string{"sh"}}), &containertypes.Config{Entrypoint: []string{""}}},
		"nil request, cmd-less image": {image(ocispec.ImageConfig{Env: []string{"A=1"}}), nil},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := MergeConfig(tc.img, tc.req)
			if !errdefs.IsInvalidArgument(err) || err.Error() != "no command specified" {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestMergeConfigFields(t *testing.T) {
	img := &dockerspec.DockerOCIImageConfig{
		ImageConfig: ocispec.ImageConfig{
			User:         "daemon",
			Env:          []string{"PATH=/img/bin", "A=img", "B=img"},
			Cmd:          []string{"sh"},
			WorkingDir:   "/srv",
			StopSignal:   "SIGQUIT",
			ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}},
			Volumes:      map[string]struct{}{"/data": {}},
			Labels:       map[string]string{"from": "image", "both": "image"},
		},
		DockerOCIImageConfigExt: dockerspec.DockerOCIImageConfigExt{
			Healthcheck: &dockerspec.HealthcheckConfig{Test: []string{"CMD", "true"}, Interval: time.Second, Retries: 3},
		},
	}
	req := &containertypes.Config{
		Env:          []string{"B=req", "C=req"},
		ExposedPorts: network.PortSet{network.MustParsePort("8080/tcp"): {}},
		Labels:       map[string]string{"both": "request"},
		Healthcheck:  &containertypes.HealthConfig{Interval: 5 * time.Second},
	}
	got, err := MergeConfig(img, req)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"B=req", "C=req", "PATH=/img/bin", "A=img"}; !reflect.DeepEqual(got.Env, want) {
		t.Errorf("env %q, want %q", got.Env, want)
	}
	if got.User != "daemon" || got.WorkingDir != "/srv" || got.StopSignal != "SIGQUIT" {
		t.Errorf("user/workdir/stopsignal: %q %q %q", got.User, got.WorkingDir, got.StopSignal)
	}
	wantPorts := network.PortSet{network.MustParsePort("8080/tcp"): {}, network.MustParsePort("80/tcp"): {}, network.MustParsePort("53/udp"): {}}
	if !reflect.DeepEqual(got.ExposedPorts, wantPorts) {
		t.Errorf("ports %v", got.ExposedPorts)
	}
	if !reflect.DeepEqual(got.Volumes, map[string]struct{}{"/data": {}}) {
		t.Errorf("volumes %v", got.Volumes)
	}
	if want := map[string]string{"from": "image", "both": "request"}; !reflect.DeepEqual(got.Labels, want) {
		t.Errorf("labels %v", got.Labels)
	}
	if h := got.Healthcheck; h == nil || h.Interval != 5*time.Second || h.Retries != 3 || !reflect.DeepEqual(h.Test, []string{"CMD", "true"}) {
		t.Errorf("healthcheck %+v", got.Healthcheck)
	}
	// The request is left untouched.
	if len(req.ExposedPorts) != 1 || len(req.Labels) != 1 || req.Healthcheck.Retries != 0 || len(req.Env) != 2 {
		t.Errorf("request modified: %+v", req)
	}
}

func TestMergeConfigRequestWins(t *testing.T) {
	img := image(ocispec.ImageConfig{User: "daemon", WorkingDir: "/srv", Cmd: []string{"sh"}})
	got, err := MergeConfig(img, &containertypes.Config{User: "1000:1000", WorkingDir: "/tmp"})
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "1000:1000" || got.WorkingDir != "/tmp" {
		t.Errorf("got %q %q", got.User, got.WorkingDir)
	}
	if got.Labels == nil {
		t.Error("labels should be a non-nil map, as docker's")
	}
}

func TestCommand(t *testing.T) {
	tests := []struct {
		path string
		args []string
		want string
	}{
		{"sh", nil, "sh"},
		{"sh", []string{"-c", "echo hi there"}, "sh -c 'echo hi there'"},
		{"/entry", []string{"-x", "serve"}, "/entry -x serve"},
	}
	for _, tc := range tests {
		if got := Command(tc.path, tc.args); got != tc.want {
			t.Errorf("Command(%q, %q) = %q, want %q", tc.path, tc.args, got, tc.want)
		}
	}
}
