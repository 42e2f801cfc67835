package content

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"

	"github.com/berth-project/berth/internal/atomicfile"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// Writer streams a blob into ingest/. Nothing is visible until Commit has
// verified the data; Abort (or a crash) leaves nothing behind once the store is
// reopened.
type Writer struct {
	s      *Store
	f      *os.File
	path   string
	hash   hash.Hash
	size   int64
	closed bool
	done   bool
}

// Writer starts a new blob write.
func (s *Store) Writer(ctx context.Context) (*Writer, error) {
	f, err := os.CreateTemp(s.ingestDir(), "blob-")
	if err != nil {
		return nil, fmt.Errorf("start blob write: %w", err)
	}
	return &Writer{s: s, f: f, path: f.Name(), hash: digest.SHA256.Hash()}, nil
}

// Write appends p to the blob.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("write to closed blob writer: %w", errdefs.ErrFailedPrecondition)
	}
	n, err := w.f.Write(p)
	w.hash.Write(p[:n])
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write blob: %w", err)
	}
	return n, nil
}

// Digest is the digest of everything written so far.
func (w *Writer) Digest() digest.Digest {
	return digest.NewDigest(digest.SHA256, w.hash)
}

// Size is the number of bytes written so far.
func (w *Writer) Size() int64 { return w.size }

// Path is the ingest file holding the data written so far; it may be read
// (e.g. to unpack a layer) before Commit or Abort.
func (w *Writer) Path() string { return w.path }

// Close flushes and closes the ingest file without committing it, so that
// many writers can wait for Commit without holding file descriptors.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close blob: %w", err)
	}
	return nil
}

// Commit verifies the data against size (ignored when negative) and expected
// (ignored when empty), then makes the blob visible. A mismatch removes the
// data and returns an error wrapping errdefs.ErrFailedPrecondition. Committing
// a blob that already exists succeeds. It returns the blob's digest.
func (w *Writer) Commit(ctx context.Context, size int64, expected digest.Digest) (digest.Digest, error) {
	if w.done {
		return "", fmt.Errorf("blob already committed or aborted: %w", errdefs.ErrFailedPrecondition)
	}
	defer w.Abort()
	if !w.closed {
		if err := w.f.Sync(); err != nil {
			return "", fmt.Errorf("sync blob: %w", err)
		}
	} else if err := syncPath(w.path); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	dgst := w.Digest()
	if size >= 0 && size != w.size {
		return "", fmt.Errorf("blob size mismatch: expected %d, got %d: %w", size, w.size, errdefs.ErrFailedPrecondition)
	}
	if expected != "" && expected != dgst {
		return "", fmt.Errorf("blob digest mismatch: expected %s, got %s: %w", expected, dgst, errdefs.ErrFailedPrecondition)
	}
	target, err := w.s.Path(dgst)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(target); err == nil {
		return dgst, nil
	}
	if err := os.Chmod(w.path, 0o644); err != nil {
		return "", fmt.Errorf("commit blob: %w", err)
	}
	if err := os.Rename(w.path, target); err != nil {
		return "", fmt.Errorf("commit blob %s: %w", dgst, err)
	}
	w.done = true
	if err := atomicfile.SyncDir(w.s.root + "/blobs/sha256"); err != nil {
		return "", err
	}
	return dgst, nil
}

// Abort discards an uncommitted blob. It is safe to call after Commit.
func (w *Writer) Abort() {
	_ = w.Close()
	if !w.done {
		w.done = true
		if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return
		}
	}
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("sync blob: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync blob: %w", err)
	}
	return nil
}
