package oci

import (
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Resources translates r into the cgroup limits a live container is
// updated with (`runc update`), exactly as a new container's spec gets
// them; h says what the host's cgroups support.
func Resources(r containertypes.Resources, h Host) (*specs.LinuxResources, error) {
	s := &specs.Spec{Linux: &specs.Linux{}}
	if err := setResources(s, &containertypes.HostConfig{Resources: r}, nil, &h); err != nil {
		return nil, err
	}
	return s.Linux.Resources, nil
}
