package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/berth-project/berth/internal/snapshot"
	"github.com/containerd/errdefs"
	"github.com/moby/go-archive/compression"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// applyLayer decompresses a layer blob of an archive and unpacks it on
// parent (see ApplyLayer). Data that does not match is the archive's fault.
func (s *Store) applyLayer(ctx context.Context, parent digest.Digest, blob io.Reader, expected digest.Digest) (snapshot.Info, error) {
	dec, err := compression.DecompressStream(blob)
	if err != nil {
		return snapshot.Info{}, fmt.Errorf("decompress layer: %w", errdefs.ErrInvalidArgument.WithMessage(err.Error()))
	}
	defer dec.Close()
	if expected == "" {
		info, err := s.snaps.Unpack(ctx, parent, dec, "")
		if err != nil {
			return snapshot.Info{}, err
		}
		return info, nil
	}
	info, err := s.ApplyLayer(ctx, parent, dec, expected)
	if errdefs.IsFailedPrecondition(err) {
		return snapshot.Info{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return info, err
}

// layerMediaType tells a blob's media type from its first bytes.
func layerMediaType(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ocispec.MediaTypeImageLayer
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return ocispec.MediaTypeImageLayerGzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return ocispec.MediaTypeImageLayerZstd
	default:
		return ocispec.MediaTypeImageLayer
	}
}

// layerFromInfo is the record of a layer stored as blob.
func layerFromInfo(info snapshot.Info, blob digest.Digest, mediaType string, blobSize int64) layerRecord {
	return layerRecord{
		DiffID:    info.DiffID,
		ChainID:   info.Key,
		Blob:      blob,
		MediaType: mediaType,
		BlobSize:  blobSize,
		TarSize:   info.TarSize,
		Size:      info.Size,
	}
}
