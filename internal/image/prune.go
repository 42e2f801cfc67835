package image

import (
	"context"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/backend"
)

var pruneFilters = map[string]bool{"dangling": true, "until": true, "label": true, "label!": true}

// Prune removes unused images like POST /images/prune: dangling ones (no
// tag), or with filter dangling=false every image no
// container uses. Images with children are kept, as are images matching
// no label filter or created after "until". It also drops what
// interrupted pulls had kept for reuse. SpaceReclaimed is the bytes of the
// snapshots and blobs removed.
func (s *Store) Prune(ctx context.Context, filters map[string][]string, usedBy UsedBy) (*image.PruneReport, error) {
	for k := range filters {
		if !pruneFilters[k] {
			return nil, errdefs.ErrInvalidArgument.WithMessage("invalid filter '" + k + "'")
		}
	}
	danglingOnly := true
	if set, v, err := boolFilter(filters, "dangling"); err != nil {
		return nil, err
	} else if set {
		danglingOnly = v
	}
	var until time.Time
	for _, v := range filters["until"] {
		ts, err := backend.ParseUntil(v)
		if err != nil {
			return nil, err
		}
		until = ts
	}

	s.mu.RLock()
	type candidate struct {
		id   digest.Digest
		refs []string
	}
	var cands []candidate
	for _, rec := range s.images {
		refs := s.refs.of(rec.ID)
		if danglingOnly && hasTag(refs) {
			continue // dangling: no tag (digest references do not count)
		}
		if s.hasChildrenLocked(rec) {
			continue
		}
		if usedBy != nil {
			if _, _, used := usedBy(rec.ID.String()); used {
				continue
			}
		}
		if !until.IsZero() && !rec.created().Before(until) {
			continue
		}
		if !backend.Filters(filters).MatchPruneLabels(rec.config.Config.Labels) {
			continue
		}
		c := candidate{id: rec.ID}
		for _, r := range refs {
			c.refs = append(c.refs, r.String())
		}
		cands = append(cands, c)
	}
	s.mu.RUnlock()

	report := &image.PruneReport{ImagesDeleted: []image.DeleteResponse{}}
	for _, c := range cands {
		names := c.refs
		if len(names) == 0 {
			names = []string{c.id.Encoded()}
		}
		for _, n := range names {
			d, err := s.delete(ctx, n, false, false, usedBy)
			if err != nil {
				if errdefs.IsNotFound(err) || errdefs.IsConflict(err) {
					continue
				}
				return report, err
			}
			report.ImagesDeleted = append(report.ImagesDeleted, d.records...)
			// what the collections removed, so that the figure is what
			// the disk got back
			report.SpaceReclaimed += uint64(d.freed)
		}
	}
	if len(report.ImagesDeleted) == 0 {
		report.ImagesDeleted = nil
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leases.dropInactive()
	res, err := s.gcLocked(ctx)
	report.SpaceReclaimed += uint64(res.freed)
	return report, err
}

func hasTag(refs []reference.Named) bool {
	for _, r := range refs {
		if _, ok := r.(reference.NamedTagged); ok {
			return true
		}
	}
	return false
}
