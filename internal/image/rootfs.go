package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/berth-project/berth/internal/atomicfile"
	"github.com/berth-project/berth/internal/snapshot"
	"github.com/opencontainers/go-digest"
)

func (s *Store) rwDir(containerID string) (string, error) {
	if containerID == "" || filepath.Base(containerID) != containerID || containerID[0] == '.' {
		return "", fmt.Errorf("invalid container id %q", containerID)
	}
	return filepath.Join(s.containersDir(), containerID, "rw"), nil
}

// PrepareRootfs creates (or reuses) the container's writable layer,
// containers/<containerID>/rw/{upper,work}, on top of the image's layers and
// returns the mount of its root filesystem.
func (s *Store) PrepareRootfs(ctx context.Context, imageID, containerID string) (snapshot.Mount, error) {
	dir, err := s.rwDir(containerID)
	if err != nil {
		return snapshot.Mount{}, err
	}
	// The read lock keeps a concurrent Delete from collecting the layers
	// before the chain file below protects them.
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, err := s.resolveLocked(imageID)
	if err != nil {
		return snapshot.Mount{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return snapshot.Mount{}, fmt.Errorf("create rw layer: %w", err)
	}
	chain := rec.chainID()
	p := filepath.Join(dir, chainFile)
	if old, err := os.ReadFile(p); err != nil || string(old) != chain.String() {
		if err := atomicfile.WriteFile(p, []byte(chain.String()), 0o600); err != nil {
			return snapshot.Mount{}, fmt.Errorf("create rw layer: %w", err)
		}
	}
	return s.snaps.Prepare(ctx, chain, dir)
}

// RemoveRootfs removes the container's writable layer (it must be
// unmounted). Removing a missing one is not an error. Layers only the
// container still used are collected.
func (s *Store) RemoveRootfs(ctx context.Context, containerID string) error {
	dir, err := s.rwDir(containerID)
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	chain, _ := os.ReadFile(filepath.Join(dir, chainFile))
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove rw layer: %w", err)
	}
	// Collect layers of images deleted while this container used them;
	// skip if an import or load is running (the next collection gets them).
	if len(chain) > 0 && !s.chainInUse(digest.Digest(chain)) && s.writeMu.TryLock() {
		defer s.writeMu.Unlock()
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, err := s.gcLocked(ctx); err != nil {
			return fmt.Errorf("collect unused layers: %w", err)
		}
	}
	return nil
}

// chainInUse reports whether an image still uses the layer chain.
func (s *Store) chainInUse(chain digest.Digest) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, rec := range s.images {
		for _, l := range rec.Layers {
			if l.ChainID == chain {
				return true
			}
		}
	}
	return false
}
