package image

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/backend"
)

var listFilters = map[string]bool{"dangling": true, "label": true, "before": true, "since": true, "reference": true, "until": true}

func invalidFilter(key string, values []string) error {
	msg := "invalid filter '" + key
	if values != nil {
		msg += "=" + strings.Join(values, ",")
	}
	return errdefs.ErrInvalidArgument.WithMessage(msg + "'")
}

// boolFilter reads a true/false filter as docker does.
func boolFilter(filters map[string][]string, key string) (set, value bool, err error) {
	vals, ok := filters[key]
	if !ok {
		return false, false, nil
	}
	var t, f bool
	for _, v := range vals {
		switch strings.ToLower(v) {
		case "1", "true":
			t = true
		case "0", "false":
			f = true
		}
	}
	if t == f {
		return false, false, invalidFilter(key, vals)
	}
	return true, t, nil
}

// List returns image summaries, newest first, like GET /images/json.
func (s *Store) List(ctx context.Context, all bool, filters map[string][]string) ([]image.Summary, error) {
	for k := range filters {
		if !listFilters[k] {
			return nil, invalidFilter(k, nil)
		}
	}
	danglingSet, dangling, err := boolFilter(filters, "dangling")
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var before, since time.Time
	for _, v := range filters["before"] {
		rec, err := s.resolveLocked(v)
		if err != nil {
			return nil, err
		}
		if c := rec.created(); before.IsZero() || c.Before(before) {
			before = c
		}
	}
	for _, v := range filters["until"] {
		ts, err := backend.ParseUntil(v)
		if err != nil {
			return nil, err
		}
		if before.IsZero() || ts.Before(before) {
			before = ts
		}
	}
	for _, v := range filters["since"] {
		rec, err := s.resolveLocked(v)
		if err != nil {
			return nil, err
		}
		if c := rec.created(); c.After(since) {
			since = c
		}
	}
	out := []image.Summary{}
	for _, rec := range s.images {
		created := rec.created()
		if !before.IsZero() && !created.Before(before) {
			continue
		}
		if !since.IsZero() && !created.After(since) {
			continue
		}
		if !backend.Filters(filters).MatchLabels("label", rec.config.Config.Labels) {
			continue
		}
		refs := s.refs.of(rec.ID)
		if pats, ok := filters["reference"]; ok {
			var kept = refs[:0:0]
			for _, r := range refs {
				for _, p := range pats {
					m, err := reference.FamiliarMatch(p, r)
					if err != nil {
						return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
					}
					if m {
						kept = append(kept, r)
						break
					}
				}
			}
			if len(kept) == 0 {
				continue
			}
			refs = kept
		}
		tags, digests := familiar(refs)
		if len(tags) == 0 && len(digests) == 0 {
			if (danglingSet && !dangling) || (!all && s.hasChildrenLocked(rec)) {
				continue
			}
		} else if danglingSet && dangling && len(tags) > 0 {
			continue
		}
		out = append(out, image.Summary{
			ID:          rec.ID.String(),
			ParentID:    rec.Parent.String(),
			RepoTags:    tags,
			RepoDigests: digests,
			Created:     created.Unix(),
			Size:        rec.size,
			SharedSize:  -1,
			Containers:  -1,
			Labels:      rec.config.Config.Labels,
		})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created > out[j].Created
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// hasChildrenLocked reports whether another image is built on rec.
func (s *Store) hasChildrenLocked(rec *record) bool {
	for _, o := range s.images {
		if o.Parent == rec.ID {
			return true
		}
	}
	return false
}

// DiskUsage returns what docker's system df reports of the store: the
// file content of every layer once (LayersSize) and, by image ID, the part
// of each image's layers that other images share too.
func (s *Store) DiskUsage(ctx context.Context) (layersSize int64, shared map[string]int64, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	users := map[digest.Digest]int{}
	sizes := map[digest.Digest]int64{}
	for _, rec := range s.images {
		for _, l := range rec.Layers {
			users[l.ChainID]++
			sizes[l.ChainID] = l.Size
		}
	}
	for _, size := range sizes {
		layersSize += size
	}
	shared = map[string]int64{}
	for _, rec := range s.images {
		var n int64
		for _, l := range rec.Layers {
			if users[l.ChainID] > 1 {
				n += l.Size
			}
		}
		shared[rec.ID.String()] = n
	}
	return layersSize, shared, nil
}
