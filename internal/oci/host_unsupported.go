//go:build !linux

package oci

import (
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DetectHost knows nothing off Linux: an empty Host.
func DetectHost() Host { return Host{} }

// HostDevices is Linux-only.
func HostDevices() ([]specs.LinuxDevice, error) {
	return nil, errdefs.ErrNotImplemented.WithMessage("host devices are only supported on Linux")
}

// DevicesFromPath is Linux-only.
func DevicesFromPath(host, ctr string) ([]specs.LinuxDevice, error) {
	return nil, errdefs.ErrNotImplemented.WithMessage("devices are only supported on Linux")
}
