package build

import (
	"context"
	"net"

	"github.com/containerd/errdefs"
)

// ServeBuildKit serves BuildKit's gRPC control API over conn, an h2c
// connection hijacked from POST /grpc, until it closes.
func (b *Builder) ServeBuildKit(ctx context.Context, conn net.Conn) error {
	return errdefs.ErrNotImplemented
}

// ServeBuildSession serves a client's session over conn, hijacked from
// POST /session.
func (b *Builder) ServeBuildSession(ctx context.Context, conn net.Conn, header map[string][]string) error {
	return errdefs.ErrNotImplemented
}
