package image

import (
	"context"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// notFound is docker's "No such image" error for the reference as parsed
// (docker adds the default tag: "No such image: busybox:latest").
func notFound(ref reference.Reference, given string) error {
	msg := given
	if ref != nil {
		if named, ok := ref.(reference.Named); ok {
			ref = reference.TagNameOnly(named)
		}
		msg = reference.FamiliarString(ref)
	}
	return errdefs.ErrNotFound.WithMessage("No such image: " + msg)
}

// invalidRef classifies a reference parse error as docker does.
func invalidRef(err error) error {
	return errdefs.ErrInvalidArgument.WithMessage(err.Error())
}

// Get returns the image named by ref: name[:tag], name@digest, a full or
// bare id, or a unique id prefix.
func (s *Store) Get(ctx context.Context, ref string) (*Image, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	return s.imageLocked(rec), nil
}

// resolveLocked follows docker's lookup order: digest id, reference, id prefix.
func (s *Store) resolveLocked(given string) (*record, error) {
	ref, err := reference.ParseAnyReference(given)
	if err != nil {
		return nil, invalidRef(err)
	}
	named, ok := ref.(reference.Named)
	if !ok {
		if d, ok := ref.(reference.Digested); ok {
			if rec := s.images[d.Digest()]; rec != nil {
				return rec, nil
			}
		}
		return nil, notFound(ref, given)
	}
	if id, ok := s.refs.get(reference.TagNameOnly(named)); ok {
		if rec := s.images[id]; rec != nil {
			return rec, nil
		}
	}
	if rec := s.searchLocked(given); rec != nil {
		return rec, nil
	}
	return nil, notFound(ref, given)
}

// searchLocked finds the one image whose id starts with prefix (with or
// without "sha256:").
func (s *Store) searchLocked(prefix string) *record {
	hex := strings.TrimPrefix(prefix, digest.SHA256.String()+":")
	if hex == "" || strings.Trim(hex, "0123456789abcdef") != "" {
		return nil
	}
	var found *record
	for id, rec := range s.images {
		if strings.HasPrefix(id.Encoded(), hex) {
			if found != nil {
				return nil // ambiguous
			}
			found = rec
		}
	}
	return found
}

// imageLocked builds the daemon's view of rec.
func (s *Store) imageLocked(rec *record) *Image {
	tags, digests := familiar(s.refs.of(rec.ID))
	return &Image{
		ID:          rec.ID.String(),
		Config:      rec.config,
		RepoTags:    tags,
		RepoDigests: digests,
		Size:        rec.size,
		ChainID:     rec.chainID(),
	}
}

// ImageIDs returns the ids of every image in the store.
func (s *Store) ImageIDs(ctx context.Context) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.images))
	for id := range s.images {
		out = append(out, id.String())
	}
	return out
}

// shortID is docker's 12-character form of an id.
func shortID(id digest.Digest) string {
	e := id.Encoded()
	if len(e) > 12 {
		e = e[:12]
	}
	return e
}

func truncate(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
