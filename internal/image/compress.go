package image

import (
	"context"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
)

// compressBlob stores a gzip-compressed copy of an uncompressed layer blob
// (as docker compresses layers to push them) and returns its digest and
// size. The caller holds writeMu, so the new blob is not collected before
// a record points at it.
func (s *Store) compressBlob(ctx context.Context, blob digest.Digest) (digest.Digest, int64, error) {
	f, err := s.content.Open(ctx, blob)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	w, err := s.content.Writer(ctx)
	if err != nil {
		return "", 0, err
	}
	defer w.Abort()
	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return "", 0, err
	}
	if _, err := io.Copy(zw, f); err != nil {
		return "", 0, fmt.Errorf("compress: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", 0, fmt.Errorf("compress: %w", err)
	}
	size := w.Size()
	d, err := w.Commit(ctx, size, "")
	if err != nil {
		return "", 0, err
	}
	return d, size, nil
}
