package daemon

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	networktypes "github.com/moby/moby/api/types/network"
)

func TestValidateCreate(t *testing.T) {
	port := networktypes.MustParsePort("80/tcp")
	bind := func(host string) networktypes.PortMap {
		return networktypes.PortMap{port: {{HostPort: host}}}
	}
	restart := func(name containertypes.RestartPolicyMode, max int) containertypes.RestartPolicy {
		return containertypes.RestartPolicy{Name: name, MaximumRetryCount: max}
	}
	joiner := containertypes.NetworkMode("container:web")
	tests := []struct {
		name string
		cfg  containertypes.Config
		hc   containertypes.HostConfig
		want string // "" valid; else in the message of a 400
	}{
		{name: "empty"},
		{name: "ports ok", hc: containertypes.HostConfig{PortBindings: networktypes.PortMap{port: {{HostPort: ""}, {HostPort: "8080"}, {HostPort: "9000-9001"}}}}},
		{name: "host port out of range", hc: containertypes.HostConfig{PortBindings: bind("99999")}, want: `invalid port specification: "99999"`},
		{name: "host port not a number", hc: containertypes.HostConfig{PortBindings: bind("abc")}, want: `invalid port specification: "abc"`},
		{name: "container port zero", hc: containertypes.HostConfig{PortBindings: networktypes.PortMap{networktypes.MustParsePort("0/tcp"): nil}}, want: `invalid port specification: "0/tcp"`},
		{name: "restart ok", hc: containertypes.HostConfig{RestartPolicy: restart("on-failure", 3)}},
		{name: "restart retries with always", hc: containertypes.HostConfig{RestartPolicy: restart("always", 2)}, want: "maximum retry count can only be used with 'on-failure'"},
		{name: "restart negative", hc: containertypes.HostConfig{RestartPolicy: restart("on-failure", -1)}, want: "maximum retry count cannot be negative"},
		{name: "restart unknown", hc: containertypes.HostConfig{RestartPolicy: restart("sometimes", 0)}, want: "invalid restart policy: unknown policy 'sometimes'"},
		{name: "restart with rm", hc: containertypes.HostConfig{AutoRemove: true, RestartPolicy: restart("always", 0)}, want: "conflicting options: cannot specify both --restart and --rm"},
		{name: "no restart with rm", hc: containertypes.HostConfig{AutoRemove: true, RestartPolicy: restart("no", 0)}},
		{name: "json-file", hc: containertypes.HostConfig{LogConfig: containertypes.LogConfig{Type: "json-file"}}},
		{name: "unknown log driver", hc: containertypes.HostConfig{LogConfig: containertypes.LogConfig{Type: "foo"}}, want: "logger: no log driver named 'foo' is registered"},
		{name: "bind", hc: containertypes.HostConfig{Binds: []string{"/srv:/data", "/etc/x:/etc/x:ro"}}},
		{name: "bind relative target", hc: containertypes.HostConfig{Binds: []string{"/srv:data"}}, want: `invalid mount config for type "bind": invalid mount path: 'data' mount path must be absolute`},
		{name: "bind relative source", hc: containertypes.HostConfig{Binds: []string{"rel/dir:/data"}}, want: `"rel/dir" includes invalid characters for a local volume name`},
		{name: "bind bad mode", hc: containertypes.HostConfig{Binds: []string{"/srv:/data:rx"}}, want: "invalid mode: rx"},
		{name: "bind duplicate target", hc: containertypes.HostConfig{Binds: []string{"/a:/data", "/b:/data/"}}, want: "Duplicate mount point: /data"},
		{name: "named volume", hc: containertypes.HostConfig{Binds: []string{"db:/data"}}},
		{name: "anonymous volume relative", cfg: containertypes.Config{Volumes: map[string]struct{}{"data": {}}}, want: `invalid mount config for type "volume": invalid mount path: 'data' mount path must be absolute`},
		{name: "mounts", hc: containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "db", Target: "/var/lib/db"}, {Type: mount.TypeBind, Source: "/srv", Target: "/srv"}}}},
		{name: "mount and bind on one target", hc: containertypes.HostConfig{Binds: []string{"/a:/data"}, Mounts: []mount.Mount{{Type: mount.TypeVolume, Target: "/data"}}}, want: "Duplicate mount point: /data"},
		{name: "mount relative bind", hc: containertypes.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "rel", Target: "/data"}}}, want: `invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`},
		{name: "anonymous volumes", cfg: containertypes.Config{Volumes: map[string]struct{}{"/b": {}, "/a": {}}}},
		{name: "volumes-from", hc: containertypes.HostConfig{VolumesFrom: []string{"other", "third:ro"}}},
		{name: "volumes-from bad mode", hc: containertypes.HostConfig{VolumesFrom: []string{"other:rx"}}, want: "invalid mode: rx"},
		{name: "tmpfs relative", hc: containertypes.HostConfig{Tmpfs: map[string]string{"run": ""}}, want: `invalid mount path: 'run' mount path must be absolute`},
		{name: "tmpfs on the root", hc: containertypes.HostConfig{Tmpfs: map[string]string{"/": ""}}, want: `invalid specification: destination can't be '/'`},
		{name: "tmpfs over a bind", hc: containertypes.HostConfig{Binds: []string{"/srv:/run"}, Tmpfs: map[string]string{"/run/": ""}}, want: "Duplicate mount point: /run"},
		{name: "container mode", hc: containertypes.HostConfig{NetworkMode: joiner}},
		{name: "container mode without name", hc: containertypes.HostConfig{NetworkMode: "container:"}, want: "Invalid network mode: invalid container format container:<name|id>"},
		{name: "container mode hostname", cfg: containertypes.Config{Hostname: "h"}, hc: containertypes.HostConfig{NetworkMode: joiner}, want: "conflicting options: hostname and the network mode"},
		{name: "container mode dns", hc: containertypes.HostConfig{NetworkMode: joiner, DNS: []netip.Addr{netip.MustParseAddr("1.1.1.1")}}, want: "conflicting options: dns and the network mode"},
		{name: "container mode add-host", hc: containertypes.HostConfig{NetworkMode: joiner, ExtraHosts: []string{"a:1.2.3.4"}}, want: "conflicting options: custom host-to-IP mapping and the network mode"},
		{name: "container mode publish", hc: containertypes.HostConfig{NetworkMode: joiner, PublishAllPorts: true}, want: "conflicting options: port publishing and the container type network mode"},
		{name: "container mode expose", cfg: containertypes.Config{ExposedPorts: networktypes.PortSet{port: {}}}, hc: containertypes.HostConfig{NetworkMode: joiner}, want: "conflicting options: port exposing and the container type network mode"},
		{name: "working dir", cfg: containertypes.Config{WorkingDir: "/srv/app"}},
		{name: "working dir relative", cfg: containertypes.Config{WorkingDir: "rel/dir"}, want: "the working directory 'rel/dir' is invalid, it needs to be an absolute path"},
		{name: "container mode links", hc: containertypes.HostConfig{NetworkMode: joiner, Links: []string{"db:db"}}, want: "container type network can't be used with links"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateCreate(&tt.cfg, &tt.hc)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a 400 containing %q", err, tt.want)
			}
		})
	}
	// a driver dockerd has but berth lacks is not a typo: 501, not 400
	err := validateCreate(&containertypes.Config{}, &containertypes.HostConfig{LogConfig: containertypes.LogConfig{Type: "syslog"}})
	if !errdefs.IsNotImplemented(err) {
		t.Errorf("syslog: err = %v, want not implemented", err)
	}
}

func TestEndpointNetworks(t *testing.T) {
	endpoints := func(names ...string) *networktypes.NetworkingConfig {
		nc := &networktypes.NetworkingConfig{EndpointsConfig: map[string]*networktypes.EndpointSettings{}}
		for _, n := range names {
			nc.EndpointsConfig[n] = &networktypes.EndpointSettings{}
		}
		return nc
	}
	for _, tc := range []struct {
		mode string
		nc   *networktypes.NetworkingConfig
		want []string
	}{
		{"", nil, []string{"bridge"}},
		{"default", endpoints("default"), []string{"bridge"}},
		{"bridge", nil, []string{"bridge"}},
		{"none", nil, nil},
		{"host", nil, nil},
		{"container:web", nil, nil},
		{"dev", endpoints("dev"), []string{"dev"}},
		{"dev", endpoints("dev", "prod"), []string{"dev", "prod"}},
	} {
		got := endpointNetworks(&containertypes.HostConfig{NetworkMode: containertypes.NetworkMode(tc.mode)}, tc.nc)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.mode, got, tc.want)
		}
	}
}
