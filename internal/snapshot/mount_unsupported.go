//go:build !linux

package snapshot

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// MountAt mounts m on target; only Linux is supported.
func (m Mount) MountAt(target string) error {
	return fmt.Errorf("mount %s: %w", m.Type, errdefs.ErrNotImplemented)
}

// Unmount unmounts target; only Linux is supported.
func Unmount(target string) error {
	return fmt.Errorf("unmount %s: %w", target, errdefs.ErrNotImplemented)
}
