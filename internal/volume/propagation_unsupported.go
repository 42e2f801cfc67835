//go:build !linux

package volume

import "github.com/containerd/errdefs"

// SourcePropagation finds the host mount of path; Linux only.
func SourcePropagation(path string) (mountpoint string, shared, slave bool, err error) {
	return "", false, false, errdefs.ErrNotImplemented.WithMessage("mount propagation is only supported on Linux")
}
