package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/berth-project/berth/internal/content"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// manifestItem is one entry of a docker-archive's manifest.json.
type manifestItem struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// loaded is an image of the archive whose layers are unpacked, waiting to
// be made visible.
type loaded struct {
	rec  *record
	raw  []byte
	tags []reference.NamedTagged
}

// Load reads a docker-archive (docker save output, legacy or OCI-layout
// based) or an OCI image layout tarball and adds its images. progress gets
// docker's "Loaded image: ..." lines. On any error nothing becomes visible.
func (s *Store) Load(ctx context.Context, r io.Reader, progress func(line string)) (retErr error) {
	if progress == nil {
		progress = func(string) {}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer func() {
		if retErr != nil {
			// Collect layers unpacked for images that never became visible.
			s.mu.Lock()
			if _, err := s.gcLocked(context.WithoutCancel(ctx)); err != nil {
				s.log.Warn("image load: clean up", "error", err)
			}
			s.mu.Unlock()
		}
	}()
	arc, err := readArchive(ctx, s.content, r)
	if err != nil {
		return err
	}
	defer arc.abort()

	var items []manifestItem
	switch {
	case arc.has("manifest.json"):
		data, err := arc.read("manifest.json")
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &items); err != nil {
			return invalidArchive(fmt.Errorf("manifest.json: %w", err))
		}
	case arc.has("index.json"):
		if items, err = ociItems(arc); err != nil {
			return err
		}
	default:
		return errdefs.ErrInvalidArgument.WithMessage("invalid archive: no manifest.json or index.json found")
	}

	var images []loaded
	blobs := map[*content.Writer]digest.Digest{} // layer files to commit
	for _, m := range items {
		img, err := s.loadItem(ctx, arc, m, blobs)
		if err != nil {
			return err
		}
		images = append(images, img)
	}
	for w, d := range blobs {
		if _, err := w.Commit(ctx, -1, d); err != nil {
			return err
		}
	}
	for _, img := range images {
		if err := s.commitLoaded(ctx, img, progress); err != nil {
			return err
		}
	}
	return nil
}

// loadItem unpacks one image's layers and checks them against its config.
func (s *Store) loadItem(ctx context.Context, arc *archiveFiles, m manifestItem, blobs map[*content.Writer]digest.Digest) (loaded, error) {
	raw, err := arc.read(m.Config)
	if err != nil {
		return loaded{}, err
	}
	if d := blobDigest(m.Config); d != "" && d != digest.FromBytes(raw) {
		return loaded{}, invalidArchive(fmt.Errorf("config %s: digest mismatch", m.Config))
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return loaded{}, invalidArchive(fmt.Errorf("config %s: %w", m.Config, err))
	}
	if cfg.OS != "" && cfg.OS != "linux" {
		return loaded{}, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("cannot load %s image on linux", cfg.OS))
	}
	if len(m.Layers) != len(cfg.RootFS.DiffIDs) {
		return loaded{}, invalidArchive(fmt.Errorf("invalid manifest, layers length mismatch: expected %d, got %d", len(m.Layers), len(cfg.RootFS.DiffIDs)))
	}
	rec := &record{}
	var parent digest.Digest
	for i, name := range m.Layers {
		w, err := arc.get(name)
		if err != nil {
			return loaded{}, err
		}
		if d := blobDigest(name); d != "" && d != w.Digest() {
			return loaded{}, invalidArchive(fmt.Errorf("layer %s: digest mismatch, got %s", name, w.Digest()))
		}
		f, err := os.Open(w.Path())
		if err != nil {
			return loaded{}, err
		}
		info, err := s.applyLayer(ctx, parent, f, cfg.RootFS.DiffIDs[i])
		f.Close()
		if err != nil {
			return loaded{}, fmt.Errorf("layer %d (%s): %w", i, name, err)
		}
		blobs[w] = w.Digest()
		rec.Layers = append(rec.Layers, layerFromInfo(info, w.Digest(), layerMediaType(w.Path()), w.Size()))
		parent = info.Key
	}
	img := loaded{rec: rec, raw: raw}
	for _, t := range m.RepoTags {
		named, err := reference.ParseNormalizedNamed(t)
		if err != nil {
			return loaded{}, invalidRef(err)
		}
		tagged, ok := named.(reference.NamedTagged)
		if !ok {
			return loaded{}, invalidArchive(fmt.Errorf("invalid tag %q", t))
		}
		img.tags = append(img.tags, tagged)
	}
	return img, nil
}

// commitLoaded makes a loaded image visible and reports it like docker.
func (s *Store) commitLoaded(ctx context.Context, img loaded, progress func(string)) error {
	if _, err := s.content.WriteBlob(ctx, img.raw, ""); err != nil {
		return err
	}
	img.rec.ID = digest.FromBytes(img.raw)
	if err := img.rec.setConfig(img.raw); err != nil {
		return invalidArchive(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addImageLocked(img.rec); err != nil {
		return err
	}
	rec := s.images[img.rec.ID]
	for _, t := range img.tags {
		if prev, ok := s.refs.get(t); ok && prev != rec.ID {
			progress(fmt.Sprintf("The image %s already exists, renaming the old one with ID %s to empty string", reference.FamiliarString(t), prev))
		}
		if err := s.tagLocked(t, rec); err != nil {
			return err
		}
		progress("Loaded image: " + reference.FamiliarString(t))
	}
	if len(img.tags) == 0 {
		progress("Loaded image ID: " + rec.ID.String())
	}
	return nil
}

// ociItems reads an OCI image layout's index.json (following nested
// indexes) into manifest items, naming images from their annotations.
func ociItems(arc *archiveFiles) ([]manifestItem, error) {
	data, err := arc.read("index.json")
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, invalidArchive(fmt.Errorf("index.json: %w", err))
	}
	var items []manifestItem
	byManifest := map[digest.Digest]int{}
	var walk func(descs []ocispec.Descriptor, depth int) error
	walk = func(descs []ocispec.Descriptor, depth int) error {
		if depth > 4 {
			return invalidArchive(fmt.Errorf("index nesting too deep"))
		}
		for _, d := range descs {
			if d.Platform != nil && (d.Platform.OS != "linux" || d.Platform.Architecture != goarch()) {
				continue
			}
			blob, err := arc.read(blobPath(d.Digest))
			if err != nil {
				return err
			}
			if digest.FromBytes(blob) != d.Digest {
				return invalidArchive(fmt.Errorf("blob %s: digest mismatch", d.Digest))
			}
			switch d.MediaType {
			case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
				var sub ocispec.Index
				if err := json.Unmarshal(blob, &sub); err != nil {
					return invalidArchive(err)
				}
				if err := walk(sub.Manifests, depth+1); err != nil {
					return err
				}
				continue
			}
			var m ocispec.Manifest
			if err := json.Unmarshal(blob, &m); err != nil {
				return invalidArchive(err)
			}
			i, seen := byManifest[d.Digest]
			if !seen {
				item := manifestItem{Config: blobPath(m.Config.Digest)}
				for _, l := range m.Layers {
					item.Layers = append(item.Layers, blobPath(l.Digest))
				}
				items = append(items, item)
				i = len(items) - 1
				byManifest[d.Digest] = i
			}
			if name := imageName(d.Annotations); name != "" {
				items[i].RepoTags = append(items[i].RepoTags, name)
			}
		}
		return nil
	}
	if err := walk(idx.Manifests, 0); err != nil {
		return nil, err
	}
	return items, nil
}

// imageName is the tagged name an OCI layout's annotations give an image.
func imageName(ann map[string]string) string {
	for _, n := range []string{ann["io.containerd.image.name"], ann[ocispec.AnnotationRefName]} {
		if n == "" {
			continue
		}
		if named, err := reference.ParseNormalizedNamed(n); err == nil {
			if _, ok := named.(reference.NamedTagged); ok {
				return reference.FamiliarString(named)
			}
		}
	}
	return ""
}

func blobPath(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}
