package image

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"
)

// UsedBy tells whether a container uses an image. When several do, it must
// report a running one if there is one, since that conflict cannot be forced.
type UsedBy func(imageID string) (containerID string, running bool, used bool)

// Delete removes a reference or an image with docker's rules (DELETE
// /images/{name}): a name is untagged, and the image goes only when nothing
// else references it; an id deletes the image, refusing with a conflict
// when containers or several repositories use it (force overrides the soft
// cases). Layers and blobs nothing else uses are removed too.
func (s *Store) Delete(ctx context.Context, ref string, force, noPrune bool, usedBy func(imageID string) (containerID string, running bool, used bool)) ([]image.DeleteResponse, error) {
	d, err := s.delete(ctx, ref, force, noPrune, usedBy)
	if err != nil {
		return nil, err
	}
	return d.records, nil
}

// delete is Delete, returning the deletion: its records and the bytes it
// freed.
func (s *Store) delete(ctx context.Context, ref string, force, noPrune bool, usedBy UsedBy) (*deletion, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.resolveLocked(ref)
	if err != nil {
		return nil, err
	}
	d := &deletion{s: s, usedBy: usedBy, records: []image.DeleteResponse{}}
	id := rec.ID
	repoRefs := s.refs.of(id)
	removedRepositoryRef := false
	if !isIDPrefix(id, ref) {
		if !force && isSingleReference(repoRefs) {
			if cid, _, used := d.using(id); used {
				return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", ref, truncate(cid), shortID(id)))
			}
		}
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			return nil, invalidRef(err)
		}
		named = reference.TagNameOnly(named)
		d.untag(named)
		repoRefs = s.refs.of(id)
		// Untagging the last tag of a repository drops its digest references too.
		if _, canonical := named.(reference.Canonical); !canonical {
			tagLeft := false
			for _, r := range repoRefs {
				if _, c := r.(reference.Canonical); !c && r.Name() == named.Name() {
					tagLeft = true
				}
			}
			if !tagLeft {
				var remaining []reference.Named
				for _, r := range repoRefs {
					if _, c := r.(reference.Canonical); c && r.Name() == named.Name() {
						d.untag(r)
					} else {
						remaining = append(remaining, r)
					}
				}
				repoRefs = remaining
			}
		}
		if err := s.refs.save(); err != nil {
			return nil, err
		}
		if len(repoRefs) > 0 {
			return d, nil
		}
		removedRepositoryRef = true
	} else if isSingleReference(repoRefs) {
		mask := conflictHard
		if !force {
			mask |= conflictStoppedContainer
		}
		if c := d.conflict(rec, mask); c != nil {
			return nil, c
		}
		for _, r := range repoRefs {
			d.untag(r)
		}
		if err := s.refs.save(); err != nil {
			return nil, err
		}
	}
	if err := d.deleteImage(ctx, rec, force, !noPrune, removedRepositoryRef); err != nil {
		return nil, err
	}
	return d, nil
}

type conflictType int

const (
	conflictDependentChild conflictType = 1 << iota
	conflictRunningContainer
	conflictActiveReference
	conflictStoppedContainer
	conflictHard = conflictDependentChild | conflictRunningContainer
	conflictSoft = conflictActiveReference | conflictStoppedContainer
)

// deleteConflict is docker's image delete conflict.
type deleteConflict struct {
	hard bool
	used bool
	id   digest.Digest
	msg  string
}

func (c *deleteConflict) Error() string {
	force := "must be forced"
	if c.hard {
		force = "cannot be forced"
	}
	return fmt.Sprintf("conflict: unable to delete %s (%s) - %s", shortID(c.id), force, c.msg)
}

// Unwrap classifies the conflict as errdefs.ErrConflict (HTTP 409).
func (c *deleteConflict) Unwrap() error { return errdefs.ErrConflict }

// deletion is one Delete call's state, under the store's locks.
type deletion struct {
	s       *Store
	usedBy  UsedBy
	records []image.DeleteResponse
	freed   int64 // bytes of snapshots and blobs removed
}

func (d *deletion) using(id digest.Digest) (string, bool, bool) {
	if d.usedBy == nil {
		return "", false, false
	}
	return d.usedBy(id.String())
}

func (d *deletion) untag(named reference.Named) {
	d.s.refs.delete(named)
	d.records = append(d.records, image.DeleteResponse{Untagged: reference.FamiliarString(named)})
}

func (d *deletion) conflict(rec *record, mask conflictType) *deleteConflict {
	if mask&conflictDependentChild != 0 && d.s.hasChildrenLocked(rec) {
		return &deleteConflict{hard: true, id: rec.ID, msg: "image has dependent child images"}
	}
	cid, running, used := d.using(rec.ID)
	if mask&conflictRunningContainer != 0 && used && running {
		return &deleteConflict{hard: true, used: true, id: rec.ID, msg: "image is being used by running container " + truncate(cid)}
	}
	if mask&conflictActiveReference != 0 && len(d.s.refs.of(rec.ID)) > 0 {
		return &deleteConflict{id: rec.ID, msg: "image is referenced in multiple repositories"}
	}
	if mask&conflictStoppedContainer != 0 && used && !running {
		return &deleteConflict{used: true, id: rec.ID, msg: "image is being used by stopped container " + truncate(cid)}
	}
	return nil
}

// deleteImage removes the image unless a conflict stops it (quietly when
// quiet, unless the image is dangling or in use), then its parent if prune.
func (d *deletion) deleteImage(ctx context.Context, rec *record, force, prune, quiet bool) error {
	s := d.s
	mask := conflictHard
	if !force {
		mask |= conflictSoft
	}
	if c := d.conflict(rec, mask); c != nil {
		dangling := len(s.refs.of(rec.ID)) == 0 && !s.hasChildrenLocked(rec)
		if quiet && (!dangling || c.used) {
			return nil
		}
		return c
	}
	for _, r := range s.refs.of(rec.ID) {
		d.untag(r)
	}
	if err := s.refs.save(); err != nil {
		return err
	}
	if err := s.removeRecord(rec.ID); err != nil {
		return err
	}
	delete(s.images, rec.ID)
	d.records = append(d.records, image.DeleteResponse{Deleted: rec.ID.String()})
	res, err := s.gcLocked(ctx)
	if err != nil {
		return err
	}
	d.freed += res.freed
	removed := res.removed
	// Report the image's own layers that went, top first, like docker.
	for i := len(rec.Layers) - 1; i >= 0; i-- {
		if removed[rec.Layers[i].ChainID] {
			d.records = append(d.records, image.DeleteResponse{Deleted: rec.Layers[i].ChainID.String()})
		}
	}
	if !prune || rec.Parent == "" {
		return nil
	}
	if parent := s.images[rec.Parent]; parent != nil {
		return d.deleteImage(ctx, parent, false, true, true)
	}
	return nil
}

// isSingleReference is true when all references are in one repository with
// at most one tag.
func isSingleReference(refs []reference.Named) bool {
	if len(refs) <= 1 {
		return len(refs) == 1
	}
	var single reference.Named
	canonical := map[string]struct{}{}
	for _, r := range refs {
		if _, ok := r.(reference.Canonical); ok {
			canonical[r.Name()] = struct{}{}
		} else if single == nil {
			single = r
		} else {
			return false
		}
	}
	if single == nil {
		single = refs[0]
	}
	_, ok := canonical[single.Name()]
	return len(canonical) == 1 && ok
}

// isIDPrefix reports whether given names the image by (a prefix of) its id.
func isIDPrefix(id digest.Digest, given string) bool {
	return strings.HasPrefix(id.String(), given) || strings.HasPrefix(id.Encoded(), given)
}
