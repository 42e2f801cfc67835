package image

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// This file is what the embedded BuildKit (internal/build) needs of the
// store: stored images served as a registry serves them, so that a
// Dockerfile's FROM finds local images, and built images recorded.

// Distributable is a stored image as a registry would serve it.
type Distributable struct {
	ID     digest.Digest // the config digest
	Config []byte
	Layers []Layer // bottom first; blobs compressed or not, as stored
	// Manifests are the registry manifests known for the image (pulled or
	// pushed), most recent first; their blobs may no longer all be stored.
	Manifests []KnownManifest
}

// KnownManifest is a registry manifest stored for an image.
type KnownManifest struct {
	Digest    digest.Digest
	MediaType string
	Size      int64
}

// Distributable resolves ref (a reference or an image id) as Get does and
// returns the image's config, layers and known manifests.
func (s *Store) Distributable(ctx context.Context, ref string) (*Distributable, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	d := &Distributable{ID: rec.ID, Config: rec.raw}
	for _, l := range rec.Layers {
		d.Layers = append(d.Layers, l.export())
	}
	for _, m := range rec.Manifests {
		d.Manifests = append(d.Manifests, KnownManifest{Digest: m.Digest, MediaType: m.MediaType, Size: m.Size})
	}
	return d, nil
}

// ReadBlob reads a whole stored blob (a manifest or a config).
func (s *Store) ReadBlob(ctx context.Context, d digest.Digest) ([]byte, error) {
	return s.content.ReadBlob(ctx, d)
}

// LayerByChainID returns a stored image's layer with this chain ID, so
// that a layer shared with a stored image is recorded as that image has
// it (same blob) rather than ingested again.
func (s *Store) LayerByChainID(chainID digest.Digest) (Layer, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, rec := range s.images {
		for _, l := range rec.Layers {
			if l.ChainID == chainID {
				return l.export(), true
			}
		}
	}
	return Layer{}, false
}

// RecordBuild stores a built image from its raw config and its layers
// (bottom first, blobs stored and snapshots unpacked, under the caller's
// Lease) and points names at it; without names the image is dangling. It
// returns the image id.
func (s *Store) RecordBuild(ctx context.Context, config []byte, layers []Layer, names []reference.NamedTagged) (digest.Digest, error) {
	rec := &record{}
	for _, l := range layers {
		rec.Layers = append(rec.Layers, layerFromInfo(l.Snapshot, l.Blob, l.MediaType, l.BlobSize))
	}
	tags := make([]reference.Named, 0, len(names))
	for _, n := range names {
		tags = append(tags, n)
	}
	if err := s.commitImage(ctx, rec, config, tags...); err != nil {
		return "", err
	}
	return rec.ID, nil
}

// LinkBlob makes the file at src, a blob that another digest-verified
// content store holds (BuildKit's, on the same filesystem), blob d of this
// store by hard-linking it: no copy. The caller holds a Lease naming d.
// Files are immutable in both stores, so sharing the inode is safe; it
// fails (for the caller to copy instead) across filesystems.
func (s *Store) LinkBlob(ctx context.Context, src string, d digest.Digest) error {
	if s.content.Exists(ctx, d) {
		return nil
	}
	dst, err := s.content.Path(d)
	if err != nil {
		return err
	}
	if err := os.Link(src, dst); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
