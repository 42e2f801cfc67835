package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
)

// buildCacheRoutes registers POST /build/prune.
func (s *Server) buildCacheRoutes() {
	s.handle("POST /build/prune", s.buildCachePrune)
}

// buildCachePrune answers POST /build/prune?all=&filters=&reserved-space=
// &max-used-space=&min-free-space= (keep-storage before API 1.48, and as
// reserved-space's old name after), as dockerd: the ids it removed and the
// bytes it reclaimed.
func (s *Server) buildCachePrune(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	filters, err := parseFilters(q)
	if err != nil {
		return err
	}
	opts := BuildCachePruneOptions{All: boolValue(q, "all"), Filters: filters}
	if opts.KeepStorage, err = bytesValue(q, "keep-storage"); err != nil {
		return err
	}
	if v := apiVersion(r.Context()); v == "" || compareVersions(v, "1.48") >= 0 {
		if opts.ReservedSpace, err = bytesValue(q, "reserved-space"); err != nil {
			return err
		}
		if opts.MaxUsedSpace, err = bytesValue(q, "max-used-space"); err != nil {
			return err
		}
		if opts.MinFreeSpace, err = bytesValue(q, "min-free-space"); err != nil {
			return err
		}
	}
	report, err := s.backend.BuildCachePrune(r.Context(), opts)
	if err != nil {
		return err
	}
	if report == nil {
		report = &build.CachePruneReport{}
	}
	if report.CachesDeleted == nil {
		report.CachesDeleted = []string{}
	}
	return writeJSON(w, http.StatusOK, report)
}

// bytesValue reads a size in bytes; empty is 0.
func bytesValue(q url.Values, name string) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s is in bytes and expects an integer, got %v: %v", name, v, err))
	}
	return int64(n), nil
}

// buildCacheSummary is system df's build cache line as dockerd counts it:
// every record's size, the records in use, and what a prune could reclaim
// (neither in use nor shared).
func buildCacheSummary(records []build.CacheRecord, verbose bool) *build.DiskUsage {
	u := &build.DiskUsage{TotalCount: int64(len(records))}
	for _, r := range records {
		u.TotalSize += r.Size
		if r.InUse {
			u.ActiveCount++
		}
		if !r.InUse && !r.Shared {
			u.Reclaimable += r.Size
		}
	}
	if verbose {
		u.Items = records
	}
	return u
}
