//go:build !linux

package volume

import "github.com/containerd/errdefs"

// mountDevice mounts a volume's device; Linux only.
func mountDevice(opts map[string]string, dir string) error {
	return errdefs.ErrNotImplemented.WithMessage("volumes with a device are only supported on Linux")
}

// unmountDevice has nothing to unmount off Linux.
func unmountDevice(dir string) error { return nil }
