package daemon

import (
	"context"
	"io"
	"net"

	"github.com/containerd/errdefs"
	buildtypes "github.com/moby/moby/api/types/build"

	"github.com/berth-project/berth/internal/backend"
)

// Builds is the embedded builder as the daemon uses it (*build.Builder).
type Builds interface {
	ServeBuildKit(ctx context.Context, upgrade func() (net.Conn, error)) error
	ServeBuildSession(ctx context.Context, upgrade func() (net.Conn, error), header map[string][]string) error
	Build(ctx context.Context, opts backend.BuildOptions, body io.Reader, out io.Writer) error
	BuildCancel(ctx context.Context, id string) error
	BuildCachePrune(ctx context.Context, opts backend.BuildCachePruneOptions) (*buildtypes.CachePruneReport, error)
	BuildCacheUsage(ctx context.Context) ([]buildtypes.CacheRecord, error)
}

var errNoBuilder = errdefs.ErrNotImplemented.WithMessage("this engine has no builder")

// ServeBuildKit serves BuildKit's control API over a hijacked connection.
func (d *Daemon) ServeBuildKit(ctx context.Context, upgrade func() (net.Conn, error)) error {
	if d.builds == nil {
		return errNoBuilder
	}
	return d.builds.ServeBuildKit(ctx, upgrade)
}

// ServeBuildSession serves a build client's session.
func (d *Daemon) ServeBuildSession(ctx context.Context, upgrade func() (net.Conn, error), header map[string][]string) error {
	if d.builds == nil {
		return errNoBuilder
	}
	return d.builds.ServeBuildSession(ctx, upgrade, header)
}

// Build runs a classic POST /build.
func (d *Daemon) Build(ctx context.Context, opts backend.BuildOptions, body io.Reader, out io.Writer) error {
	if d.builds == nil {
		return errNoBuilder
	}
	return d.builds.Build(ctx, opts, body, out)
}

// BuildCancel cancels a running build.
func (d *Daemon) BuildCancel(ctx context.Context, id string) error {
	if d.builds == nil {
		return errNoBuilder
	}
	return d.builds.BuildCancel(ctx, id)
}

// BuildCachePrune removes build cache records. An engine without a
// builder has no cache and prunes nothing (system prune calls it).
func (d *Daemon) BuildCachePrune(ctx context.Context, opts backend.BuildCachePruneOptions) (*buildtypes.CachePruneReport, error) {
	if d.builds == nil {
		return &buildtypes.CachePruneReport{CachesDeleted: []string{}}, nil
	}
	return d.builds.BuildCachePrune(ctx, opts)
}

// BuildCacheUsage lists the build cache.
func (d *Daemon) BuildCacheUsage(ctx context.Context) ([]buildtypes.CacheRecord, error) {
	if d.builds == nil {
		return nil, errNoBuilder
	}
	return d.builds.BuildCacheUsage(ctx)
}
