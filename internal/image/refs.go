package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"github.com/berth-project/berth/internal/atomicfile"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// refStore maps normalised references (docker.io/library/busybox:latest,
// name@sha256:...) to image ids, persisted in refs.json. Callers hold
// Store.mu.
type refStore struct {
	path string
	refs map[string]digest.Digest
}

type refEntry struct {
	named reference.Named
	id    digest.Digest
}

type refsFile struct {
	Refs map[string]digest.Digest `json:"refs"`
}

func openRefs(path string) (*refStore, error) {
	r := &refStore{path: path, refs: map[string]digest.Digest{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read references: %w", err)
	}
	var f refsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("read references %s: %w", path, err)
	}
	for k, v := range f.Refs {
		if _, err := reference.ParseNormalizedNamed(k); err == nil && v.Validate() == nil {
			r.refs[k] = v
		}
	}
	return r, nil
}

// save writes refs.json atomically.
func (r *refStore) save() error {
	data, err := json.MarshalIndent(refsFile{Refs: r.refs}, "", "\t")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(r.path, data, 0o600); err != nil {
		return fmt.Errorf("save references: %w", err)
	}
	return nil
}

func (r *refStore) get(named reference.Named) (digest.Digest, bool) {
	id, ok := r.refs[named.String()]
	return id, ok
}

func (r *refStore) set(named reference.Named, id digest.Digest) {
	r.refs[named.String()] = id
}

func (r *refStore) delete(named reference.Named) bool {
	_, ok := r.refs[named.String()]
	delete(r.refs, named.String())
	return ok
}

// all returns every reference, sorted.
func (r *refStore) all() []refEntry {
	out := make([]refEntry, 0, len(r.refs))
	for k, id := range r.refs {
		named, err := reference.ParseNormalizedNamed(k)
		if err != nil {
			continue
		}
		out = append(out, refEntry{named, id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].named.String() < out[j].named.String() })
	return out
}

// of returns the references to image id, sorted.
func (r *refStore) of(id digest.Digest) []reference.Named {
	var out []reference.Named
	for _, e := range r.all() {
		if e.id == id {
			out = append(out, e.named)
		}
	}
	return out
}

// familiar splits refs into docker's RepoTags and RepoDigests lists (never nil).
func familiar(refs []reference.Named) (tags, digests []string) {
	tags, digests = []string{}, []string{}
	for _, n := range refs {
		if _, ok := n.(reference.Canonical); ok {
			digests = append(digests, reference.FamiliarString(n))
		} else if _, ok := n.(reference.NamedTagged); ok {
			tags = append(tags, reference.FamiliarString(n))
		}
	}
	return tags, digests
}
