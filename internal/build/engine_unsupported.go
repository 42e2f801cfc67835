//go:build !linux

package build

import "github.com/containerd/errdefs"

// start fails: BuildKit's worker runs on Linux only.
func (b *Builder) start() (*engine, error) {
	return nil, errdefs.ErrNotImplemented.WithMessage("builds need Linux")
}
