//go:build !linux

package build

import (
	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/network"
)

// networkProviders: RUN steps need Linux namespaces.
func (b *Builder) networkProviders() (map[pb.NetMode]network.Provider, error) {
	return nil, errdefs.ErrNotImplemented.WithMessage("build steps' networks are only available on Linux")
}
