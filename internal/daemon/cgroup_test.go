package daemon

import (
	"testing"

	"github.com/berth-project/berth/internal/container"
	containertypes "github.com/moby/moby/api/types/container"
)

func TestCgroupsPath(t *testing.T) {
	for parent, want := range map[string]string{
		"":                            "/berth/abc",
		"/kubepods/besteffort/pod123": "/kubepods/besteffort/pod123/abc",
		"/kubepods/burstable/podx/":   "/kubepods/burstable/podx/abc",
		"mine":                        "mine/abc", // relative to the runtime's cgroup, as with dockerd
	} {
		c := &container.Container{ID: "abc", HostConfig: &containertypes.HostConfig{Resources: containertypes.Resources{CgroupParent: parent}}}
		if got := cgroupsPath(c); got != want {
			t.Errorf("CgroupParent %q: cgroupsPath = %q, want %q", parent, got, want)
		}
	}
}
