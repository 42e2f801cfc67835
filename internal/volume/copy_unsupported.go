//go:build !linux

package volume

import "github.com/containerd/errdefs"

// CopyUp fills an empty volume with the image's content; Linux only.
func CopyUp(rootfs, target, dst string) error {
	return errdefs.ErrNotImplemented.WithMessage("volume copy-up is only supported on Linux")
}
