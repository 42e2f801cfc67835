package image

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"

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
		ts, err := parseUntil(v)
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

// parseUntil accepts a Unix timestamp, an RFC 3339 time or a duration ago.
func parseUntil(v string) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	var sec, nsec int64
	if n, _ := fmt.Sscanf(v, "%d.%d", &sec, &nsec); n >= 1 {
		return time.Unix(sec, nsec), nil
	}
	return time.Time{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("failed to parse value as time or duration: %q", v))
}
