package image

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berth-project/berth/internal/snapshot"
	"github.com/opencontainers/go-digest"
)

// gcResult is what a collection removed: the chain IDs of the snapshots,
// and the bytes freed (the snapshots' file content and the blobs' sizes).
type gcResult struct {
	removed map[digest.Digest]bool
	freed   int64
}

// gc removes the snapshots and blobs that no image and no container's rw
// layer uses. The caller holds writeMu and mu (or has the store to
// itself).
func (s *Store) gcLocked(ctx context.Context) (gcResult, error) {
	keepSnaps := map[digest.Digest]bool{}
	keepBlobs := map[digest.Digest]bool{}
	for _, rec := range s.images {
		keepBlobs[rec.ID] = true
		for _, l := range rec.Layers {
			keepSnaps[l.ChainID] = true
			keepBlobs[l.Blob] = true
		}
		for _, m := range rec.Manifests {
			keepBlobs[m.Digest] = true
		}
	}
	s.leases.keep(keepSnaps, keepBlobs)
	for _, chain := range s.containerChains() {
		for k := chain; k != "" && !keepSnaps[k]; {
			keepSnaps[k] = true
			info, err := s.snaps.Stat(ctx, k)
			if err != nil {
				break
			}
			k = info.Parent
		}
	}
	res := gcResult{removed: map[digest.Digest]bool{}}
	removed := res.removed
	snaps, err := s.snaps.List(ctx)
	if err != nil {
		return res, err
	}
	// Remove children before parents so a crash never leaves a child whose
	// parent is gone.
	for changed := true; changed; {
		changed = false
		for _, info := range snaps {
			if keepSnaps[info.Key] || removed[info.Key] || s.hasLiveChild(snaps, removed, info.Key) {
				continue
			}
			if err := s.snaps.Remove(ctx, info.Key); err != nil {
				return res, err
			}
			removed[info.Key] = true
			res.freed += info.Size
			changed = true
		}
	}
	blobs, err := s.content.List(ctx)
	if err != nil {
		return res, err
	}
	for _, b := range blobs {
		if !keepBlobs[b] {
			size, _ := s.content.Info(ctx, b)
			if err := s.content.Delete(ctx, b); err != nil {
				s.log.Warn("image store: remove unused blob", "blob", b, "error", err)
				continue
			}
			res.freed += size
		}
	}
	return res, nil
}

func (s *Store) hasLiveChild(snaps []snapshot.Info, removed map[digest.Digest]bool, key digest.Digest) bool {
	for _, o := range snaps {
		if o.Parent == key && !removed[o.Key] {
			return true
		}
	}
	return false
}

// gc collects garbage when the store opens.
func (s *Store) gc(ctx context.Context) error {
	_, err := s.gcLocked(ctx)
	return err
}

// chainFile records which layer chain a container's rw layer sits on.
const chainFile = "chain"

// containerChains returns the top chain IDs used by containers' rw layers.
func (s *Store) containerChains() []digest.Digest {
	entries, err := os.ReadDir(s.containersDir())
	if err != nil {
		return nil
	}
	var out []digest.Digest
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(s.containersDir(), e.Name(), "rw", chainFile))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				s.log.Warn("image store: read container layer chain", "container", e.Name(), "error", err)
			}
			continue
		}
		if d := digest.Digest(strings.TrimSpace(string(data))); d.Validate() == nil {
			out = append(out, d)
		}
	}
	return out
}
