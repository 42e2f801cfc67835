//go:build !linux

package build

import "github.com/containerd/errdefs"

// engine is BuildKit, which runs on Linux only.
type engine struct{}

func (b *Builder) start() (*engine, error) {
	return nil, errdefs.ErrNotImplemented.WithMessage("builds need Linux")
}

func (e *engine) close() error { return nil }
