package image

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/storage"
)

// Inspect returns docker's GET /images/{name}/json view of an image.
func (s *Store) Inspect(ctx context.Context, ref string) (*image.InspectResponse, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	tags, digests := familiar(s.refs.of(rec.ID))
	layers := make([]string, len(rec.config.RootFS.DiffIDs))
	for i, d := range rec.config.RootFS.DiffIDs {
		layers[i] = d.String()
	}
	cfg := rec.config.Config
	resp := &image.InspectResponse{
		ID:           rec.ID.String(),
		RepoTags:     tags,
		RepoDigests:  digests,
		Comment:      rec.extra.Comment,
		Author:       rec.config.Author,
		Config:       &cfg,
		Architecture: rec.config.Architecture,
		Variant:      rec.config.Variant,
		Os:           rec.config.OS,
		OsVersion:    rec.config.OSVersion,
		Size:         rec.size,
		GraphDriver:  s.graphDriverLocked(rec),
		RootFS:       image.RootFS{Type: "layers", Layers: layers},
		Metadata:     image.Metadata{LastTagTime: rec.LastTagTime},
	}
	if rec.config.Created != nil {
		resp.Created = rec.config.Created.UTC().Format(time.RFC3339Nano)
	}
	return resp, nil
}

// graphDriverLocked describes the layer directories like docker's overlay2.
func (s *Store) graphDriverLocked(rec *record) *storage.DriverData {
	data := map[string]string{}
	if n := len(rec.Layers); n > 0 {
		dir := func(i int) string {
			return s.root + "/snapshot/" + rec.Layers[i].ChainID.Encoded() + "/diff"
		}
		data["UpperDir"] = dir(n - 1)
		var lowers []string
		for i := n - 2; i >= 0; i-- {
			lowers = append(lowers, dir(i))
		}
		if len(lowers) > 0 {
			data["LowerDir"] = strings.Join(lowers, ":")
		}
	}
	return &storage.DriverData{Name: "overlay2", Data: data}
}

// History returns the image's history, newest first, like docker: the top
// entry carries the image id and tags, older ones "<missing>".
func (s *Store) History(ctx context.Context, ref string) ([]image.HistoryResponseItem, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	var out []image.HistoryResponseItem
	layer := 0
	for _, h := range rec.config.History {
		var size int64
		if !h.EmptyLayer {
			if layer >= len(rec.Layers) {
				return nil, fmt.Errorf("image %s: too many non-empty layers in History section: %w", shortID(rec.ID), errdefs.ErrDataLoss)
			}
			size = rec.Layers[layer].Size
			layer++
		}
		var created int64
		if h.Created != nil {
			created = h.Created.Unix()
		}
		item := image.HistoryResponseItem{ID: "<missing>", Created: created, CreatedBy: h.CreatedBy, Comment: h.Comment, Size: size}
		out = append([]image.HistoryResponseItem{item}, out...)
	}
	if len(out) == 0 {
		var created int64
		if rec.config.Created != nil {
			created = rec.config.Created.Unix()
		}
		out = []image.HistoryResponseItem{{Created: created, Size: rec.size}}
	}
	// Fill in ids and tags down the parent chain, as far as it is known.
	cur := rec
	for i := range out {
		out[i].ID = cur.ID.String()
		var tags []string
		for _, r := range s.refs.of(cur.ID) {
			if _, ok := r.(reference.NamedTagged); ok {
				tags = append(tags, reference.FamiliarString(r))
			}
		}
		out[i].Tags = tags
		if cur = s.images[cur.Parent]; cur == nil {
			break
		}
	}
	return out, nil
}
