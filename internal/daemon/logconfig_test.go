package daemon

import (
	"context"
	"maps"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/shim"
)

func TestDefaultLogConfig(t *testing.T) {
	tests := []struct {
		name   string
		driver string
		opts   map[string]string
		want   map[string]string
		err    string
	}{
		{name: "berth default", want: map[string]string{"max-size": "20m", "max-file": "5"}},
		{name: "json-file, opts configured", driver: "json-file", opts: map[string]string{}, want: map[string]string{}},
		{name: "json-file own opts", driver: "json-file", opts: map[string]string{"max-size": "1m"}, want: map[string]string{"max-size": "1m"}},
		{name: "local", driver: "local", want: map[string]string{}},
		{name: "bad opt", driver: "json-file", opts: map[string]string{"max-size": "0"}, err: "failed to set log opts: failed to initialize logging driver: max-size must be a positive number"},
		{name: "unknown driver", driver: "nope", err: "failed to set log opts: logger: no log driver named 'nope' is registered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc, err := DefaultLogConfig(tt.driver, tt.opts)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(lc.Config, tt.want) {
				t.Fatalf("config = %v, want %v", lc.Config, tt.want)
			}
		})
	}
}

func TestMergeLogConfig(t *testing.T) {
	def := containertypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "20m", "max-file": "5"}}
	tests := []struct {
		name string
		in   containertypes.LogConfig
		want containertypes.LogConfig
	}{
		{"none given", containertypes.LogConfig{}, def},
		{"same driver, one opt", containertypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m"}},
			containertypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m", "max-file": "5"}}},
		{"only opts", containertypes.LogConfig{Config: map[string]string{"max-file": "3"}},
			containertypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "20m", "max-file": "3"}}},
		{"other driver", containertypes.LogConfig{Type: "local"}, containertypes.LogConfig{Type: "local", Config: map[string]string{}}},
	}
	for _, tt := range tests {
		got := mergeLogConfig(tt.in, def)
		if got.Type != tt.want.Type || !maps.Equal(got.Config, tt.want.Config) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestValidateLogConfig(t *testing.T) {
	tests := []struct {
		driver string
		opts   map[string]string
		err    string // "" valid
	}{
		{"json-file", map[string]string{"max-size": "10m", "max-file": "3", "compress": "true", "labels": "a", "env": "B", "tag": "{{.Name}}"}, ""},
		{"json-file", map[string]string{"max-file": "3"}, ""}, // docker: accepted, no rotation without max-size
		{"json-file", map[string]string{"foo": "1"}, "unknown log opt 'foo' for json-file log driver"},
		{"json-file", map[string]string{"max-size": "0"}, "failed to initialize logging driver: max-size must be a positive number"},
		{"json-file", map[string]string{"max-size": "1m", "max-file": "0"}, "failed to initialize logging driver: max-file cannot be less than 1"},
		{"json-file", map[string]string{"max-size": "1m", "compress": "true"}, "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"},
		{"json-file", map[string]string{"max-file": "3", "compress": "true"}, "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"},
		{"json-file", map[string]string{"max-size": "big"}, "failed to initialize logging driver: invalid size: 'big'"},
		{"json-file", map[string]string{"mode": "fast"}, "logger: logging mode not supported: fast"},
		{"json-file", map[string]string{"max-buffer-size": "1m"}, "logger: max-buffer-size option is only supported with 'mode=non-blocking'"},
		{"local", map[string]string{}, ""},
		{"local", map[string]string{"max-file": "1"}, "failed to initialize logging driver: compression cannot be enabled when max file count is 1"},
		{"local", map[string]string{"max-file": "1", "compress": "false"}, ""},
		{"local", map[string]string{"labels": "a"}, "unknown log opt 'labels' for log driver local"},
		{"none", map[string]string{"anything": "x"}, ""},
	}
	for _, tt := range tests {
		err := validateLogConfig(containertypes.LogConfig{Type: tt.driver, Config: tt.opts})
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s %v: %v", tt.driver, tt.opts, err)
		case tt.err != "" && (err == nil || err.Error() != tt.err || !errdefs.IsInvalidArgument(err)):
			t.Errorf("%s %v: err = %v, want %q", tt.driver, tt.opts, err, tt.err)
		}
	}
}

func TestWriterOptions(t *testing.T) {
	tests := []struct {
		lc   containertypes.LogConfig
		want shim.LogConfig
	}{
		{containertypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "3", "compress": "true"}},
			shim.LogConfig{Driver: "json-file", MaxSize: 10_000_000, MaxFiles: 3, Compress: true}},
		{containertypes.LogConfig{Type: "json-file"}, shim.LogConfig{Driver: "json-file", MaxFiles: 1}},
		{containertypes.LogConfig{Type: "local"}, shim.LogConfig{Driver: "local", MaxSize: 20 << 20, MaxFiles: 5, Compress: true}},
	}
	for _, tt := range tests {
		got, err := writerOptions(tt.lc)
		if err != nil || got != tt.want {
			t.Errorf("%+v: got %+v, %v; want %+v", tt.lc, got, err, tt.want)
		}
	}
}

func TestLogAttrs(t *testing.T) {
	c := &container.Container{
		ID: "0123456789abcdef0123", Name: "/web", ImageID: "sha256:fedcba9876543210",
		Config: &containertypes.Config{
			Image:  "busybox",
			Labels: map[string]string{"app": "shop", "tier": "front", "other": "x"},
			Env:    []string{"REGION=eu", "DEBUG=1", "PATH=/bin"},
		},
	}
	got, err := logAttrs(c, map[string]string{"labels": "app,missing", "labels-regex": "^ti", "env": "REGION", "env-regex": "^DEB", "tag": "{{.Name}}/{{.ID}}/{{.ImageName}}"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"app": "shop", "tier": "front", "REGION": "eu", "DEBUG": "1", "tag": "web/0123456789ab/busybox"}
	if !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestContainerLogConfig: create gives a container the daemon's log
// config, the shim is told how to write the log (attrs included), and
// logs refuses a container whose driver keeps none, with docker's error.
func TestContainerLogConfig(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.run(t, "web", func(r *containertypes.CreateRequest) {
		r.Config.Labels = map[string]string{"app": "shop"}
		r.HostConfig.LogConfig = containertypes.LogConfig{Config: map[string]string{"labels": "app", "compress": "true"}}
	})
	resp, err := e.d.ContainerInspect(ctx, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if lc := resp.HostConfig.LogConfig; lc.Type != "json-file" || !maps.Equal(lc.Config, map[string]string{"max-size": "20m", "max-file": "5", "labels": "app", "compress": "true"}) {
		t.Fatalf("LogConfig = %+v", lc)
	}
	starts := e.launcher.Starts()
	got := starts[len(starts)-1]
	want := shim.LogConfig{Driver: "json-file", MaxSize: 20_000_000, MaxFiles: 5, Compress: true, Attrs: `{"app":"shop"}`}
	if got.Log != want || got.LogPath != resp.LogPath || resp.LogPath == "" {
		t.Fatalf("shim log %+v at %q, want %+v at %q", got.Log, got.LogPath, want, resp.LogPath)
	}

	none := e.run(t, "quiet", func(r *containertypes.CreateRequest) { r.HostConfig.LogConfig.Type = "none" })
	if _, _, err := e.d.ContainerLogs(ctx, none, backend.LogsOptions{Stdout: true}); !errdefs.IsNotImplemented(err) || err.Error() != "configured logging driver does not support reading" {
		t.Fatalf("logs of a none container: %v", err)
	}
	if got := e.launcher.Starts(); got[len(got)-1].Log.Driver != "none" {
		t.Fatalf("none: shim log %+v", got[len(got)-1].Log)
	}
}
