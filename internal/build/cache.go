package build

import (
	"context"

	"github.com/containerd/errdefs"
	buildtypes "github.com/moby/moby/api/types/build"

	"github.com/berth-project/berth/internal/backend"
)

// BuildCachePrune removes build cache records.
func (b *Builder) BuildCachePrune(ctx context.Context, opts backend.BuildCachePruneOptions) (*buildtypes.CachePruneReport, error) {
	return nil, errdefs.ErrNotImplemented
}

// BuildCacheUsage lists the build cache's records.
func (b *Builder) BuildCacheUsage(ctx context.Context) ([]buildtypes.CacheRecord, error) {
	return nil, errdefs.ErrNotImplemented
}
