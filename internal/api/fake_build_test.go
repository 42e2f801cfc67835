package api

import (
	"context"
	"io"
	"net"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
)

// The fake engine has no builder, only a build cache.

func (b *fakeBackend) ServeBuildKit(ctx context.Context, upgrade func() (net.Conn, error)) error {
	return errdefs.ErrNotImplemented
}

func (b *fakeBackend) ServeBuildSession(ctx context.Context, upgrade func() (net.Conn, error), header map[string][]string) error {
	return errdefs.ErrNotImplemented
}

func (b *fakeBackend) Build(ctx context.Context, opts BuildOptions, body io.Reader, out io.Writer) error {
	return errdefs.ErrNotImplemented
}

func (b *fakeBackend) BuildCancel(ctx context.Context, id string) error {
	return errdefs.ErrNotImplemented
}

// BuildCachePrune records its options (buildcache_test.go) and removes
// nothing, or the one record "r1" (2 bytes) with All.
func (b *fakeBackend) BuildCachePrune(ctx context.Context, opts BuildCachePruneOptions) (*build.CachePruneReport, error) {
	return fakeBuildCachePrune(opts)
}

func (b *fakeBackend) BuildCacheUsage(ctx context.Context) ([]build.CacheRecord, error) {
	return diskUsage.BuildCache, nil
}
