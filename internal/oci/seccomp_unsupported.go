//go:build !linux

package oci

import (
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seccompProfile is Linux-only.
func seccompProfile(*specs.Spec, string) (*specs.LinuxSeccomp, error) {
	return nil, errdefs.ErrNotImplemented.WithMessage("seccomp is only supported on Linux")
}
