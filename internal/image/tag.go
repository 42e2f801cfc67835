package image

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// parseTag builds the tagged reference of POST /images/{name}/tag (and of
// import): repo normalised, tag defaulting to "latest".
func parseTag(repo, tag string) (reference.NamedTagged, error) {
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return nil, invalidRef(err)
	}
	if _, ok := named.(reference.Digested); ok {
		return nil, errdefs.ErrInvalidArgument.WithMessage("refusing to create a tag with a digest reference")
	}
	if tag != "" {
		tagged, err := reference.WithTag(named, tag)
		if err != nil {
			return nil, invalidRef(err)
		}
		named = tagged
	}
	tagged, ok := reference.TagNameOnly(named).(reference.NamedTagged)
	if !ok {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unexpected reference: %q", repo))
	}
	if reference.FamiliarName(tagged) == string(digest.SHA256) {
		return nil, errdefs.ErrInvalidArgument.WithMessage("refusing to create an ambiguous tag using digest algorithm as name")
	}
	return tagged, nil
}

// Tag points repo:tag at the image named by source. Re-tagging moves the
// tag; the image that had it may become dangling.
func (s *Store) Tag(ctx context.Context, source, repo, tag string) error {
	tagged, err := parseTag(repo, tag)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.resolveLocked(source)
	if err != nil {
		if !errdefs.IsNotFound(err) {
			// dockerd answers 404 for any failure to find the source.
			return errdefs.ErrNotFound.WithMessage(err.Error())
		}
		return err
	}
	return s.tagLocked(tagged, rec)
}

// tagLocked sets the reference and the image's LastTagTime.
func (s *Store) tagLocked(named reference.Named, rec *record) error {
	s.refs.set(named, rec.ID)
	if err := s.refs.save(); err != nil {
		return err
	}
	rec.LastTagTime = time.Now().UTC()
	return s.writeRecord(rec)
}
