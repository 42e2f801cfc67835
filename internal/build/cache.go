package build

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/client"
	buildtypes "github.com/moby/moby/api/types/build"
	"golang.org/x/sync/errgroup"

	"github.com/berth-project/berth/internal/backend"
)

// BuildCachePrune removes build cache records, as dockerd's POST
// /build/prune: the reclaimable records (or, with All, the internal ones
// too) that match the filters, until the cache fits the space options. A
// BuildKit that never ran has nothing to prune and is not started.
func (b *Builder) BuildCachePrune(ctx context.Context, opts backend.BuildCachePruneOptions) (*buildtypes.CachePruneReport, error) {
	pi, err := pruneInfo(opts, time.Now())
	if err != nil {
		return nil, err
	}
	report := &buildtypes.CachePruneReport{CachesDeleted: []string{}}
	c, err := b.cacheClient(ctx)
	if err != nil || c == nil {
		return report, err
	}
	defer c.Close()
	ch := make(chan client.UsageInfo)
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		defer close(ch)
		return c.Prune(ectx, ch, pruneOptions(pi))
	})
	eg.Go(func() error {
		for r := range ch {
			report.CachesDeleted = append(report.CachesDeleted, r.ID)
			report.SpaceReclaimed += uint64(max(r.Size, 0))
		}
		return nil
	})
	if err := eg.Wait(); err != nil {
		return nil, fmt.Errorf("failed to prune build cache: %w", err)
	}
	return report, nil
}

// BuildCacheUsage lists the build cache's records (system df). A BuildKit
// that never ran and keeps no state on disk answers an empty list and is
// not started for it.
func (b *Builder) BuildCacheUsage(ctx context.Context) ([]buildtypes.CacheRecord, error) {
	c, err := b.cacheClient(ctx)
	if err != nil || c == nil {
		return []buildtypes.CacheRecord{}, err
	}
	defer c.Close()
	du, err := c.DiskUsage(ctx)
	if err != nil {
		return nil, fmt.Errorf("error getting build cache usage: %w", err)
	}
	return cacheRecords(du), nil
}

// cacheClient is the engine's BuildKit client, or nil when BuildKit has
// never run here: no state under Root, so no cache, and starting it just
// to say so would cost the idle engine its memory. The caller closes it.
func (b *Builder) cacheClient(ctx context.Context) (*client.Client, error) {
	if !hasState(b.cfg.Root) {
		return nil, nil
	}
	return b.Client(ctx)
}

// hasState reports whether BuildKit left anything under root (the
// classic builder's extracted contexts are not BuildKit's).
func hasState(root string) bool {
	if root == "" {
		return false
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() != contextsDir {
			return true
		}
	}
	return false
}

// cacheRecords turns BuildKit's usage records into the API's.
func cacheRecords(du []*client.UsageInfo) []buildtypes.CacheRecord {
	out := make([]buildtypes.CacheRecord, 0, len(du))
	for _, r := range du {
		out = append(out, buildtypes.CacheRecord{
			ID:          r.ID,
			Parents:     r.Parents,
			Type:        string(r.RecordType),
			Description: r.Description,
			InUse:       r.InUse,
			Shared:      r.Shared,
			Size:        r.Size,
			CreatedAt:   r.CreatedAt,
			LastUsedAt:  r.LastUsedAt,
			UsageCount:  r.UsageCount,
		})
	}
	return out
}

// cacheFilters are the record fields a prune filters on, as dockerd.
var cacheFilters = []string{"description", "id", "inuse", "parent", "private", "shared", "type"}

// pruneInfo converts POST /build/prune's options to BuildKit's, as dockerd
// does: "until" (or its old name "unused-for") keeps what was used more
// recently, "id" matches a prefix, the other fields match exactly, "label"
// and "label!" are accepted and ignored; every filter takes one value.
func pruneInfo(opts backend.BuildCachePruneOptions, now time.Time) (client.PruneInfo, error) {
	for key := range opts.Filters {
		switch key {
		case "until", "unused-for", "label", "label!":
		default:
			if !slices.Contains(cacheFilters, key) {
				return client.PruneInfo{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
			}
		}
	}
	keep := opts.Until
	until, unusedFor := opts.Filters["until"], opts.Filters["unused-for"]
	if len(until) > 0 && len(unusedFor) > 0 {
		return client.PruneInfo{}, errdefs.ErrInvalidArgument.WithMessage(`conflicting filters: "until" and "unused-for"`)
	}
	key := "until"
	if len(unusedFor) > 0 {
		key, until = "unused-for", unusedFor
	}
	switch len(until) {
	case 0:
	case 1:
		t, err := backend.ParseUntil(until[0])
		if err != nil {
			return client.PruneInfo{}, errdefs.ErrInvalidArgument.WithMessage(
				fmt.Sprintf("%q filter expects a duration (e.g., '24h') or a timestamp: %v", key, err))
		}
		keep = now.Sub(t)
	default:
		return client.PruneInfo{}, errMultipleValues
	}
	var filter []string
	for _, f := range cacheFilters {
		values, ok := opts.Filters[f]
		switch {
		case !ok:
		case len(values) == 0:
			filter = append(filter, f)
		case len(values) > 1:
			return client.PruneInfo{}, errMultipleValues
		case f == "id":
			filter = append(filter, f+"~="+values[0])
		default:
			filter = append(filter, f+"=="+values[0])
		}
	}
	pi := client.PruneInfo{
		All:           opts.All,
		KeepDuration:  max(keep, 0),
		ReservedSpace: opts.ReservedSpace,
		MaxUsedSpace:  opts.MaxUsedSpace,
		MinFreeSpace:  opts.MinFreeSpace,
	}
	if pi.ReservedSpace == 0 {
		pi.ReservedSpace = opts.KeepStorage
	}
	if len(filter) > 0 {
		// one filter whose comma-separated conditions must all hold
		pi.Filter = []string{strings.Join(filter, ",")}
	}
	return pi, nil
}

var errMultipleValues = errdefs.ErrInvalidArgument.WithMessage("filters expect only one value")

// pruneOptions passes pi to BuildKit's client.
func pruneOptions(pi client.PruneInfo) client.PruneOption {
	return pruneInfoOption(pi)
}

type pruneInfoOption client.PruneInfo

// SetPruneOption sets every field of the prune.
func (o pruneInfoOption) SetPruneOption(pi *client.PruneInfo) { *pi = client.PruneInfo(o) }
