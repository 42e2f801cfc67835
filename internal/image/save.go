package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/go-archive/compression"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// saveImage is one image to save with the tags it is saved under.
type saveImage struct {
	rec  *record
	tags []reference.NamedTagged
}

// Save writes the named images as docker 25+ does: an OCI image layout
// (oci-layout, index.json, blobs/sha256/...) plus docker's manifest.json and
// repositories, with uncompressed layers, so that docker load (20.10 and
// later) and Load read it. The tar is deterministic.
func (s *Store) Save(ctx context.Context, refs []string, w io.Writer) error {
	// writeMu keeps Delete from removing blobs while they are streamed,
	// without blocking readers of the store.
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	images, err := s.saveSet(refs)
	if err != nil {
		return err
	}
	sw := &saveWriter{tw: tar.NewWriter(w), s: s, ctx: ctx}
	return sw.write(images)
}

// saveSet resolves names as docker save does: a bare repository name saves
// all its tags, name:tag that tag, and an id or digest the image untagged.
func (s *Store) saveSet(refs []string) ([]*saveImage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*saveImage
	byID := map[digest.Digest]*saveImage{}
	add := func(rec *record, tag reference.NamedTagged) {
		img := byID[rec.ID]
		if img == nil {
			img = &saveImage{rec: rec}
			byID[rec.ID] = img
			out = append(out, img)
		}
		if tag != nil {
			for _, t := range img.tags {
				if t.String() == tag.String() {
					return
				}
			}
			img.tags = append(img.tags, tag)
		}
	}
	for _, given := range refs {
		ref, err := reference.ParseAnyReference(given)
		if err != nil {
			return nil, invalidRef(err)
		}
		if named, ok := ref.(reference.Named); ok && reference.IsNameOnly(named) {
			found := false
			for _, e := range s.refs.all() {
				tagged, ok := e.named.(reference.NamedTagged)
				if ok && e.named.Name() == named.Name() && s.images[e.id] != nil {
					add(s.images[e.id], tagged)
					found = true
				}
			}
			if found {
				continue
			}
		}
		rec, err := s.resolveLocked(given)
		if err != nil {
			return nil, err
		}
		var tag reference.NamedTagged
		if named, ok := ref.(reference.NamedTagged); ok {
			if _, canonical := ref.(reference.Canonical); !canonical {
				tag = named
			}
		}
		add(rec, tag)
	}
	return out, nil
}

// saveWriter streams the archive; entries are sorted like a directory walk.
type saveWriter struct {
	tw  *tar.Writer
	s   *Store
	ctx context.Context
}

var epoch = time.Unix(0, 0).UTC()

func (sw *saveWriter) header(name string, size int64, dir bool) error {
	h := &tar.Header{Name: name, Size: size, Mode: 0o644, Typeflag: tar.TypeReg, ModTime: epoch, Format: tar.FormatPAX}
	if dir {
		h.Mode, h.Typeflag = 0o755, tar.TypeDir
	}
	return sw.tw.WriteHeader(h)
}

func (sw *saveWriter) file(name string, data []byte) error {
	if err := sw.header(name, int64(len(data)), false); err != nil {
		return err
	}
	_, err := sw.tw.Write(data)
	return err
}

// blob is one file of blobs/sha256: small data or a layer streamed from the store.
type blob struct {
	data  []byte
	layer *layerRecord
}

func (sw *saveWriter) write(images []*saveImage) error {
	blobs := map[digest.Digest]blob{}
	var index []ocispec.Descriptor
	var manifest []manifestItem
	repos := map[string]map[string]string{}
	for _, img := range images {
		rec := img.rec
		blobs[rec.ID] = blob{data: rec.raw}
		m := ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: rec.ID, Size: int64(len(rec.raw))},
			Layers:    []ocispec.Descriptor{},
		}
		item := manifestItem{Config: blobPath(rec.ID), RepoTags: []string{}, Layers: []string{}}
		for i := range rec.Layers {
			l := &rec.Layers[i]
			blobs[l.DiffID] = blob{layer: l}
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: l.DiffID, Size: l.TarSize})
			item.Layers = append(item.Layers, blobPath(l.DiffID))
		}
		mdata, err := json.Marshal(m)
		if err != nil {
			return err
		}
		mdesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(mdata), Size: int64(len(mdata))}
		blobs[mdesc.Digest] = blob{data: mdata}
		for _, t := range img.tags {
			d := mdesc
			d.Annotations = map[string]string{"io.containerd.image.name": t.String(), ocispec.AnnotationRefName: t.Tag()}
			index = append(index, d)
			item.RepoTags = append(item.RepoTags, reference.FamiliarString(t))
			if len(rec.Layers) > 0 {
				name := reference.FamiliarName(t)
				if repos[name] == nil {
					repos[name] = map[string]string{}
				}
				repos[name][t.Tag()] = rec.Layers[len(rec.Layers)-1].DiffID.Encoded()
			}
		}
		if len(img.tags) == 0 {
			index = append(index, mdesc)
		}
		manifest = append(manifest, item)
	}

	if err := sw.header("blobs/", 0, true); err != nil {
		return err
	}
	if err := sw.header("blobs/sha256/", 0, true); err != nil {
		return err
	}
	keys := make([]digest.Digest, 0, len(blobs))
	for d := range blobs {
		keys = append(keys, d)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, d := range keys {
		if err := sw.ctx.Err(); err != nil {
			return err
		}
		b := blobs[d]
		if b.layer != nil {
			if err := sw.layer(b.layer); err != nil {
				return err
			}
			continue
		}
		if err := sw.file(blobPath(d), b.data); err != nil {
			return err
		}
	}
	idx, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: index})
	if err != nil {
		return err
	}
	man, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"index.json", idx},
		{"manifest.json", append(man, '\n')},
		{ocispec.ImageLayoutFile, []byte(`{"imageLayoutVersion": "` + ocispec.ImageLayoutVersion + `"}`)},
	}
	if len(repos) > 0 {
		r, err := json.Marshal(repos)
		if err != nil {
			return err
		}
		files = append(files, struct {
			name string
			data []byte
		}{"repositories", append(r, '\n')})
	}
	for _, f := range files {
		if err := sw.file(f.name, f.data); err != nil {
			return err
		}
	}
	return sw.tw.Close()
}

// layer streams a layer uncompressed, whatever form it is stored in.
func (sw *saveWriter) layer(l *layerRecord) error {
	f, err := sw.s.content.Open(sw.ctx, l.Blob)
	if err != nil {
		return fmt.Errorf("save layer %s: %w", l.DiffID, err)
	}
	defer f.Close()
	var r io.Reader = f
	if l.Blob != l.DiffID {
		dec, err := compression.DecompressStream(f)
		if err != nil {
			return fmt.Errorf("save layer %s: %w", l.DiffID, err)
		}
		defer dec.Close()
		r = dec
	}
	if err := sw.header(blobPath(l.DiffID), l.TarSize, false); err != nil {
		return err
	}
	n, err := io.Copy(sw.tw, r)
	if err != nil {
		return fmt.Errorf("save layer %s: %w", l.DiffID, err)
	}
	if n != l.TarSize {
		return fmt.Errorf("save layer %s: size %d, expected %d: %w", l.DiffID, n, l.TarSize, errdefs.ErrDataLoss)
	}
	return nil
}
