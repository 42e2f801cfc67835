package daemon

import (
	"slices"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/userns"
)

var testRemap = userns.Remap{User: "berthremap", Group: "berthremap", IDs: user.IdentityMapping{
	UIDMaps: []user.IDMap{{ID: 0, ParentID: 100000, Count: 65536}},
	GIDMaps: []user.IDMap{{ID: 0, ParentID: 200000, Count: 65536}},
}}

func TestValidateUserns(t *testing.T) {
	remapped, plain := &Daemon{cfg: Config{Remap: testRemap}}, &Daemon{}
	for _, tc := range []struct {
		name string
		d    *Daemon
		hc   containertypes.HostConfig
		err  string
	}{
		{name: "default", d: remapped},
		{name: "host", d: remapped, hc: containertypes.HostConfig{UsernsMode: "host", Privileged: true, NetworkMode: "host", PidMode: "host"}},
		{name: "privileged", d: remapped, hc: containertypes.HostConfig{Privileged: true}, err: "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode"},
		{name: "net host", d: remapped, hc: containertypes.HostConfig{NetworkMode: "host"}, err: "cannot share the host's network namespace when user namespaces are enabled"},
		{name: "pid host", d: remapped, hc: containertypes.HostConfig{PidMode: "host"}, err: "cannot share the host PID namespace when user namespaces are enabled"},
		{name: "bad mode", d: remapped, hc: containertypes.HostConfig{UsernsMode: "private"}, err: "invalid USER mode: private"},
		{name: "no remap privileged", d: plain, hc: containertypes.HostConfig{Privileged: true}},
		{name: "no remap host", d: plain, hc: containertypes.HostConfig{UsernsMode: "host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.validateUserns(&tc.hc)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err) {
				t.Fatalf("err %v, want %q", err, tc.err)
			}
		})
	}
}

func TestApplyUserns(t *testing.T) {
	base := func() *specs.Spec {
		return &specs.Spec{
			Mounts: []specs.Mount{
				{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
				{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid", "noexec", "nodev"}},
			},
			Linux: &specs.Linux{
				Namespaces: []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/run/netns/x"}},
				Sysctl:     map[string]string{"net.ipv4.ping_group_range": "0 2147483647", "net.ipv4.ip_unprivileged_port_start": "0"},
			},
		}
	}
	d := &Daemon{cfg: Config{Remap: testRemap}}

	t.Run("own user and network namespaces", func(t *testing.T) {
		s := base()
		d.applyUserns(s, &containertypes.HostConfig{}, "/run/netns/x", "/run/bundle/userns")
		if got := s.Linux.Namespaces[1]; got != (specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/run/bundle/userns"}) {
			t.Errorf("user namespace %+v", got)
		}
		if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0].HostID != 100000 || s.Linux.GIDMappings[0].HostID != 200000 {
			t.Errorf("mappings %+v %+v", s.Linux.UIDMappings, s.Linux.GIDMappings)
		}
		if s.Mounts[0].Type != "sysfs" || slices.Contains(s.Mounts[1].Options, "ro") {
			t.Errorf("mounts %+v", s.Mounts)
		}
		if _, ok := s.Linux.Sysctl["net.ipv4.ping_group_range"]; ok || s.Linux.Sysctl["net.ipv4.ip_unprivileged_port_start"] != "0" {
			t.Errorf("sysctls %v, want no ping_group_range (dockerd) and the port start kept", s.Linux.Sysctl)
		}
	})
	t.Run("a network namespace it does not own", func(t *testing.T) {
		s := base()
		d.applyUserns(s, &containertypes.HostConfig{}, "/proc/42/ns/net", "")
		if m := s.Mounts[0]; m.Type != "bind" || m.Source != "/sys" || !slices.Contains(m.Options, "rbind") || !slices.Contains(m.Options, "ro") {
			t.Errorf("/sys %+v, want a read-only bind of the host's", m)
		}
		if len(s.Linux.Sysctl) != 0 {
			t.Errorf("sysctls %v, want none", s.Linux.Sysctl)
		}
	})
	t.Run("--userns=host", func(t *testing.T) {
		s := base()
		d.applyUserns(s, &containertypes.HostConfig{UsernsMode: "host"}, "/run/netns/x", "")
		if len(s.Linux.Namespaces) != 1 || s.Linux.UIDMappings != nil || s.Mounts[0].Type != "sysfs" || !strings.Contains(strings.Join(s.Mounts[1].Options, ","), "ro") {
			t.Errorf("spec changed for --userns=host: %+v", s)
		}
	})
}
