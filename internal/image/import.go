package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/go-archive/compression"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// configJSON is an image config as docker writes it (with "comment").
type configJSON struct {
	dockerspec.DockerOCIImage
	Comment string `json:"comment,omitempty"`
}

// Import creates a one-layer image from a rootfs tarball (plain, gzip,
// bzip2, xz or zstd), like docker import. ref ("" for none) names it;
// changes are Dockerfile instructions applied to its config. It returns the
// image id. Nothing is visible unless the whole tarball was read.
func (s *Store) Import(ctx context.Context, r io.Reader, ref string, changes []string, message string) (string, error) {
	var tagged reference.NamedTagged
	if ref != "" {
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			return "", invalidRef(err)
		}
		if _, ok := named.(reference.Digested); ok {
			return "", errdefs.ErrInvalidArgument.WithMessage("cannot import digest reference")
		}
		if tagged, err = parseTag(named.String(), ""); err != nil {
			return "", err
		}
	}
	var cfg dockerspec.DockerOCIImageConfig
	if err := applyChanges(&cfg, changes); err != nil {
		return "", err
	}
	if message == "" {
		message = "Imported from -"
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	dec, err := compression.DecompressStream(r)
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	defer dec.Close()
	w, err := s.content.Writer(ctx)
	if err != nil {
		return "", err
	}
	defer w.Abort()
	info, err := s.snaps.Unpack(ctx, "", io.TeeReader(dec, w), "")
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	blob, err := w.Commit(ctx, info.TarSize, info.DiffID)
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	now := time.Now().UTC()
	img := configJSON{Comment: message}
	img.Created = &now
	img.Architecture = runtime.GOARCH
	img.OS = "linux"
	img.Config = cfg
	img.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{info.DiffID}}
	img.History = []ocispec.History{{Created: &now, Comment: message}}
	raw, err := json.Marshal(img)
	if err != nil {
		return "", err
	}
	rec := &record{Layers: []layerRecord{layerFromInfo(info, blob, ocispec.MediaTypeImageLayer, info.TarSize)}}
	if err := s.commitImage(ctx, rec, raw, tagged); err != nil {
		return "", err
	}
	return rec.ID.String(), nil
}

// commitImage stores the config, makes the image visible and tags it.
func (s *Store) commitImage(ctx context.Context, rec *record, raw []byte, tags ...reference.Named) error {
	id, err := s.content.WriteBlob(ctx, raw, "")
	if err != nil {
		return err
	}
	rec.ID = id
	if err := rec.setConfig(raw); err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addImageLocked(rec); err != nil {
		return err
	}
	for _, t := range tags {
		if t == nil {
			continue
		}
		if err := s.tagLocked(t, s.images[rec.ID]); err != nil {
			return err
		}
	}
	return nil
}

func goarch() string { return runtime.GOARCH }
