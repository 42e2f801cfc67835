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

// applyLayer decompresses a layer blob and unpacks it on parent. When the
// layer with expected diff ID is already unpacked it only verifies the data,
// so each layer is unpacked once however many images share it.
func (s *Store) applyLayer(ctx context.Context, parent digest.Digest, blob io.Reader, expected digest.Digest) (snapshot.Info, error) {
	dec, err := compression.DecompressStream(blob)
	if err != nil {
		return snapshot.Info{}, fmt.Errorf("decompress layer: %w", errdefs.ErrInvalidArgument.WithMessage(err.Error()))
	}
	defer dec.Close()
	if expected != "" {
		if info, err := s.snaps.Stat(ctx, snapshot.ChainID(parent, expected)); err == nil {
			h := digest.SHA256.Digester()
			if _, err := io.Copy(h.Hash(), dec); err != nil {
				return snapshot.Info{}, fmt.Errorf("read layer: %w", err)
			}
			if h.Digest() != expected {
				return snapshot.Info{}, fmt.Errorf("layer digest mismatch: expected %s, got %s: %w", expected, h.Digest(), errdefs.ErrInvalidArgument)
			}
			return info, nil
		}
	}
	info, err := s.snaps.Unpack(ctx, parent, dec, expected)
	if err != nil {
		if errdefs.IsFailedPrecondition(err) {
			return snapshot.Info{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
		}
		return snapshot.Info{}, err
	}
	return info, nil
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
