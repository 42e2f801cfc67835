// Package content stores blobs (layers, configs, manifests) addressed by
// their digest. A blob becomes visible only once a Writer's Commit has checked
// its size and digest; partial writes live under ingest/ and are discarded
// when the store is opened again.
package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// Store is a content-addressed blob store rooted at a directory holding
// blobs/sha256/<hex> and ingest/.
type Store struct {
	root string
}

// New opens (creating if needed) the content store at root. Leftover partial
// writes from a crash are removed.
func New(root string) (*Store, error) {
	s := &Store{root: root}
	if err := os.RemoveAll(s.ingestDir()); err != nil {
		return nil, fmt.Errorf("content store: clean ingest: %w", err)
	}
	for _, d := range []string{filepath.Join(root, "blobs", string(digest.SHA256)), s.ingestDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("content store: %w", err)
		}
	}
	return s, nil
}

func (s *Store) ingestDir() string { return filepath.Join(s.root, "ingest") }

// Path returns where the blob with digest dgst is (or would be) stored.
func (s *Store) Path(dgst digest.Digest) (string, error) {
	if err := dgst.Validate(); err != nil {
		return "", fmt.Errorf("invalid digest %q: %w", dgst, errdefs.ErrInvalidArgument)
	}
	return filepath.Join(s.root, "blobs", dgst.Algorithm().String(), dgst.Encoded()), nil
}

// Info returns the size of a committed blob, or an error wrapping
// errdefs.ErrNotFound.
func (s *Store) Info(ctx context.Context, dgst digest.Digest) (int64, error) {
	p, err := s.Path(dgst)
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("blob %s: %w", dgst, errdefs.ErrNotFound)
		}
		return 0, fmt.Errorf("blob %s: %w", dgst, err)
	}
	return st.Size(), nil
}

// Exists reports whether the blob has been committed.
func (s *Store) Exists(ctx context.Context, dgst digest.Digest) bool {
	_, err := s.Info(ctx, dgst)
	return err == nil
}

// Open opens a committed blob for reading.
func (s *Store) Open(ctx context.Context, dgst digest.Digest) (*os.File, error) {
	p, err := s.Path(dgst)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("blob %s: %w", dgst, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("blob %s: %w", dgst, err)
	}
	return f, nil
}

// ReadBlob returns the whole content of a (small) committed blob.
func (s *Store) ReadBlob(ctx context.Context, dgst digest.Digest) ([]byte, error) {
	f, err := s.Open(ctx, dgst)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", dgst, err)
	}
	return data, nil
}

// WriteBlob stores data as a blob. expected may be empty; otherwise the data
// must match it. It returns the blob's digest.
func (s *Store) WriteBlob(ctx context.Context, data []byte, expected digest.Digest) (digest.Digest, error) {
	dgst := digest.FromBytes(data)
	if expected != "" && expected != dgst {
		return "", fmt.Errorf("blob digest mismatch: expected %s, got %s: %w", expected, dgst, errdefs.ErrFailedPrecondition)
	}
	if s.Exists(ctx, dgst) {
		return dgst, nil
	}
	w, err := s.Writer(ctx)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return "", err
	}
	return w.Commit(ctx, int64(len(data)), dgst)
}

// Delete removes a blob. Deleting a missing blob is not an error.
func (s *Store) Delete(ctx context.Context, dgst digest.Digest) error {
	p, err := s.Path(dgst)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", dgst, err)
	}
	return nil
}

// List returns the digests of every committed blob.
func (s *Store) List(ctx context.Context) ([]digest.Digest, error) {
	dir := filepath.Join(s.root, "blobs", string(digest.SHA256))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	out := make([]digest.Digest, 0, len(entries))
	for _, e := range entries {
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if d.Validate() == nil {
			out = append(out, d)
		}
	}
	return out, nil
}
