package build

import (
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/network"
)

// networkProviders gives RUN steps host and no networking until the
// provider over berth's networks (network_linux.go) lands; the default
// ("unset") mode runs on the host's network meanwhile.
func (b *Builder) networkProviders() (map[pb.NetMode]network.Provider, error) {
	host := network.NewHostProvider()
	return map[pb.NetMode]network.Provider{
		pb.NetMode_UNSET: host,
		pb.NetMode_HOST:  host,
		pb.NetMode_NONE:  network.NewNoneProvider(),
	}, nil
}
