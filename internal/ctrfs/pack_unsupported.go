//go:build !linux

package ctrfs

import (
	"io"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
)

// chrootPack needs Linux.
func chrootPack(srcPath string, opts *archive.TarOptions, root string) (io.ReadCloser, error) {
	return nil, errdefs.ErrNotImplemented.WithMessage("copying from containers needs Linux")
}

// chrootUnpack needs Linux.
func chrootUnpack(r io.Reader, root string, opts *archive.TarOptions) error {
	return errdefs.ErrNotImplemented.WithMessage("copying into containers needs Linux")
}
