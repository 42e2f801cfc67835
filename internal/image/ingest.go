package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/snapshot"
)

// This file is the store's ingestion API: what a source of images that is
// not a file (a registry pull, a push) needs of the local store. Blobs go in
// through a verifying content writer, layers are applied to snapshots, and
// an image becomes visible only through RecordPull, while a Lease keeps
// what the operation has verified so far from garbage collection.

// Layer is one layer of an image: its blob in the content store and its
// unpacked snapshot.
type Layer struct {
	Blob      digest.Digest
	MediaType string
	BlobSize  int64
	Snapshot  snapshot.Info // Key is the chain ID; DiffID the uncompressed digest
}

func (l layerRecord) export() Layer {
	return Layer{Blob: l.Blob, MediaType: l.MediaType, BlobSize: l.BlobSize, Snapshot: snapshot.Info{
		Key: l.ChainID, DiffID: l.DiffID, TarSize: l.TarSize, Size: l.Size,
	}}
}

// BlobWriter starts writing a blob into the content store. Nothing is
// visible before its Commit has verified size and digest. The caller holds
// a Lease naming the blob, so that it survives until recorded.
func (s *Store) BlobWriter(ctx context.Context) (*content.Writer, error) {
	return s.content.Writer(ctx)
}

// HasBlob reports whether a verified blob is stored.
func (s *Store) HasBlob(ctx context.Context, d digest.Digest) bool {
	return s.content.Exists(ctx, d)
}

// OpenBlob opens a stored blob.
func (s *Store) OpenBlob(ctx context.Context, d digest.Digest) (*os.File, error) {
	return s.content.Open(ctx, d)
}

// BlobSize is the size of a stored blob, or an error wrapping
// errdefs.ErrNotFound.
func (s *Store) BlobSize(ctx context.Context, d digest.Digest) (int64, error) {
	return s.content.Info(ctx, d)
}

// Snapshot returns an unpacked layer by chain ID, or an error wrapping
// errdefs.ErrNotFound.
func (s *Store) Snapshot(ctx context.Context, chainID digest.Digest) (snapshot.Info, error) {
	return s.snaps.Stat(ctx, chainID)
}

// ChainIDs are the chain IDs of a layer stack.
func ChainIDs(diffIDs []digest.Digest) []digest.Digest {
	out := make([]digest.Digest, len(diffIDs))
	var parent digest.Digest
	for i, d := range diffIDs {
		parent = snapshot.ChainID(parent, d)
		out[i] = parent
	}
	return out
}

// ApplyLayer unpacks an uncompressed layer tar on parent ("" for a base
// layer), checking it against diffID. When the layer is unpacked already
// it only verifies the data, so each layer is unpacked once however many
// images share it. Data that does not match diffID fails with an error
// wrapping errdefs.ErrFailedPrecondition. The caller holds a Lease naming
// the resulting chain ID.
func (s *Store) ApplyLayer(ctx context.Context, parent digest.Digest, tar io.Reader, diffID digest.Digest) (snapshot.Info, error) {
	if info, err := s.snaps.Stat(ctx, snapshot.ChainID(parent, diffID)); err == nil {
		h := digest.SHA256.Digester()
		if _, err := io.Copy(h.Hash(), tar); err != nil {
			return snapshot.Info{}, fmt.Errorf("read layer: %w", err)
		}
		if h.Digest() != diffID {
			return snapshot.Info{}, fmt.Errorf("layer digest mismatch: expected %s, got %s: %w", diffID, h.Digest(), errdefs.ErrFailedPrecondition)
		}
		return info, nil
	}
	return s.snaps.Unpack(ctx, parent, tar, diffID)
}

// HasImage reports whether the image with this config digest is stored.
func (s *Store) HasImage(id digest.Digest) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.images[id] != nil
}

// Lease keeps blobs and layers from garbage collection while an operation
// needs them. Its record on disk outlives a crash, so what a pull had
// verified stays for the next pull until the lease expires.
type Lease struct {
	s  *Store
	le *lease
}

// Lease starts a lease on blobs and layers (by chain ID), which need not
// exist yet.
func (s *Store) Lease(blobs, chainIDs []digest.Digest) (*Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	le, err := s.leases.add(blobs, chainIDs)
	if err != nil {
		return nil, err
	}
	return &Lease{s: s, le: le}, nil
}

// Release ends the lease: what it held and no image uses is collected by
// the next garbage collection.
func (l *Lease) Release() {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.leases.release(l.le, false)
}

// Keep ends the lease's operation but keeps what it holds until it
// expires, for the next operation to reuse (an interrupted pull).
func (l *Lease) Keep() {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.leases.release(l.le, true)
}

// Discard ends the lease and collects at once what it held and no image
// uses: nothing of a failed operation stays.
func (l *Lease) Discard(ctx context.Context) {
	s := l.s
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leases.release(l.le, false)
	if _, err := s.gcLocked(context.WithoutCancel(ctx)); err != nil {
		s.log.Warn("image store: clean up after a failed transfer", "error", err)
	}
}

// Pulled is an image fetched from a registry, ready to be recorded.
type Pulled struct {
	// Ref is the reference pulled: tagged (it is pointed at the image) or
	// digested.
	Ref reference.Named
	// Config is the raw image config; nil when the image is stored
	// already, then ConfigDigest names it.
	Config       []byte
	ConfigDigest digest.Digest
	Layers       []Layer // bottom first; nil when the image is stored already
	// Manifest is the image manifest, kept so that a push sends it byte
	// for byte.
	Manifest     []byte
	ManifestDesc ocispec.Descriptor
	// Top is what the reference resolved to on the registry (an index or
	// the manifest itself): Ref's name@Top becomes a reference too.
	Top digest.Digest
}

// RecordPull makes a pulled image visible, records its manifest and points
// the references at it. upToDate tells that Ref already named this image.
// The caller holds a Lease on the image's blobs and layers.
func (s *Store) RecordPull(ctx context.Context, p Pulled) (id digest.Digest, upToDate bool, err error) {
	if _, err := s.content.WriteBlob(ctx, p.Manifest, p.ManifestDesc.Digest); err != nil {
		return "", false, err
	}
	id = p.ConfigDigest
	if p.Config != nil {
		if id, err = s.content.WriteBlob(ctx, p.Config, ""); err != nil {
			return "", false, err
		}
	}
	canonical, err := reference.WithDigest(reference.TrimNamed(p.Ref), p.Top)
	if err != nil {
		return "", false, invalidRef(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec *record
	if p.Config == nil {
		if rec = s.images[id]; rec == nil {
			return "", false, fmt.Errorf("image %s vanished during the pull: %w", id, errdefs.ErrNotFound)
		}
	} else {
		rec = &record{ID: id}
		for _, l := range p.Layers {
			rec.Layers = append(rec.Layers, layerFromInfo(l.Snapshot, l.Blob, l.MediaType, l.BlobSize))
		}
		if err := rec.setConfig(p.Config); err != nil {
			return "", false, err
		}
		if old := s.images[id]; old != nil {
			rec.Manifests = old.Manifests
		}
	}
	rec.addManifest(manifestRecord{Digest: p.ManifestDesc.Digest, MediaType: p.ManifestDesc.MediaType, Size: p.ManifestDesc.Size, Repos: []string{p.Ref.Name()}})
	if err := s.addImageLocked(rec); err != nil {
		return "", false, err
	}
	rec = s.images[id]
	prev, hadRef := s.refs.get(p.Ref)
	upToDate = hadRef && prev == id
	if _, byDigest := p.Ref.(reference.Canonical); !byDigest && !upToDate {
		if err := s.tagLocked(p.Ref, rec); err != nil {
			return "", false, err
		}
	}
	s.refs.set(canonical, id)
	if err := s.refs.save(); err != nil {
		return "", false, err
	}
	return id, upToDate, nil
}

// PushTarget is one tag a push sends.
type PushTarget struct {
	Ref reference.NamedTagged
	ID  digest.Digest
}

// PushTargets are the tags a push of named sends: named's own when it is
// tagged, else every tag of its repository, sorted. None is not an error.
func (s *Store) PushTargets(named reference.Named) []PushTarget {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if tagged, ok := named.(reference.NamedTagged); ok {
		if id, ok := s.refs.get(tagged); ok && s.images[id] != nil {
			return []PushTarget{{tagged, id}}
		}
		return nil
	}
	var out []PushTarget
	for _, e := range s.refs.all() {
		tagged, ok := e.named.(reference.NamedTagged)
		if !ok || e.named.Name() != named.Name() || s.images[e.id] == nil {
			continue
		}
		out = append(out, PushTarget{tagged, e.id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.Tag() < out[j].Ref.Tag() })
	return out
}

// Pushable is an image as a push sends it. Its blobs are leased until
// Release.
type Pushable struct {
	ID     digest.Digest
	Config []byte
	Layers []Layer // bottom first, every blob compressed
	// Manifest is the manifest to send: a known one whose blobs are the
	// image's (so a pulled image keeps its digest), else a new one.
	Manifest     []byte
	ManifestDesc ocispec.Descriptor
	// Repos are the repositories ("host/path") known to hold the image's
	// blobs: where a push can mount them from.
	Repos []string
	lease *Lease
}

// Release ends the push's hold on the image's blobs.
func (p *Pushable) Release() { p.lease.Release() }

// Pushable prepares an image for a push: layers stored uncompressed
// (imported, loaded) are gzip-compressed once and kept so, and the
// manifest is chosen.
func (s *Store) Pushable(ctx context.Context, id digest.Digest) (*Pushable, error) {
	layers, cfgRaw, manifests, err := s.pushableImage(ctx, id)
	if err != nil {
		return nil, err
	}
	blobs := []digest.Digest{id}
	for _, l := range layers {
		blobs = append(blobs, l.Blob)
	}
	for _, m := range manifests {
		blobs = append(blobs, m.Digest)
	}
	le, err := s.Lease(blobs, nil)
	if err != nil {
		return nil, err
	}
	raw, desc, err := s.manifestFor(ctx, id, layers, cfgRaw, manifests)
	if err != nil {
		le.Release()
		return nil, err
	}
	p := &Pushable{ID: id, Config: cfgRaw, Manifest: raw, ManifestDesc: desc, lease: le}
	for _, l := range layers {
		p.Layers = append(p.Layers, l.export())
	}
	for _, m := range manifests {
		for _, r := range m.Repos {
			p.Repos = appendUnique(p.Repos, r)
		}
	}
	return p, nil
}

// RecordPush stores the pushed manifest and adds the repository digest
// ref's name@digest to the image.
func (s *Store) RecordPush(ctx context.Context, ref reference.Named, id digest.Digest, raw []byte, desc ocispec.Descriptor) error {
	if _, err := s.content.WriteBlob(ctx, raw, desc.Digest); err != nil {
		return err
	}
	canonical, err := reference.WithDigest(reference.TrimNamed(ref), desc.Digest)
	if err != nil {
		return invalidRef(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.images[id]
	if rec == nil {
		return nil // deleted meanwhile: the registry has it, nothing to record
	}
	rec.addManifest(manifestRecord{Digest: desc.Digest, MediaType: desc.MediaType, Size: desc.Size, Repos: []string{ref.Name()}})
	if err := s.writeRecord(rec); err != nil {
		return err
	}
	s.refs.set(canonical, id)
	return s.refs.save()
}

// pushableImage returns the image's layers with compressed blobs
// (compressing, once, those stored uncompressed), its config and its
// known manifests.
func (s *Store) pushableImage(ctx context.Context, id digest.Digest) ([]layerRecord, []byte, []manifestRecord, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	rec := s.images[id]
	var layers []layerRecord
	var raw []byte
	var manifests []manifestRecord
	if rec != nil {
		layers = append(layers, rec.Layers...)
		raw = rec.raw
		manifests = append(manifests, rec.Manifests...)
	}
	s.mu.RUnlock()
	if rec == nil {
		return nil, nil, nil, errdefs.ErrNotFound.WithMessage("No such image: " + id.String())
	}
	changed := false
	for i := range layers {
		if isCompressedLayer(layers[i].MediaType) && layers[i].Blob != layers[i].DiffID {
			continue
		}
		blob, size, err := s.compressBlob(ctx, layers[i].Blob)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("compress layer %s: %w", layers[i].DiffID, err)
		}
		layers[i].Blob, layers[i].BlobSize, layers[i].MediaType = blob, size, mediaTypeDockerLayer
		changed = true
	}
	if changed {
		s.mu.Lock()
		if rec := s.images[id]; rec != nil {
			rec.Layers = append([]layerRecord(nil), layers...)
			if err := s.writeRecord(rec); err != nil {
				s.mu.Unlock()
				return nil, nil, nil, err
			}
		}
		s.mu.Unlock()
	}
	return layers, raw, manifests, nil
}

// Media types of the manifests berth writes (docker's schema 2).
const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

func isCompressedLayer(mediaType string) bool {
	switch mediaType {
	case ocispec.MediaTypeImageLayerGzip, mediaTypeDockerLayer, ocispec.MediaTypeImageLayerZstd,
		ocispec.MediaTypeImageLayerNonDistributableGzip, ocispec.MediaTypeImageLayerNonDistributableZstd: //nolint:staticcheck // still found in the wild
		return true
	}
	return false
}

// manifestFor is the manifest to push: a known one whose blobs are the
// image's (byte for byte, so its digest is kept), else a new schema 2
// manifest written as dockerd writes it.
func (s *Store) manifestFor(ctx context.Context, id digest.Digest, layers []layerRecord, cfgRaw []byte, known []manifestRecord) ([]byte, ocispec.Descriptor, error) {
	for _, m := range known {
		raw, err := s.content.ReadBlob(ctx, m.Digest)
		if err != nil {
			continue
		}
		var man ocispec.Manifest
		if json.Unmarshal(raw, &man) != nil || man.Config.Digest != id || len(man.Layers) != len(layers) {
			continue
		}
		same := true
		for i, l := range man.Layers {
			same = same && l.Digest == layers[i].Blob
		}
		if same {
			return raw, ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: int64(len(raw))}, nil
		}
	}
	type descriptor struct {
		MediaType string        `json:"mediaType"`
		Size      int64         `json:"size"`
		Digest    digest.Digest `json:"digest"`
	}
	man := struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{SchemaVersion: 2, MediaType: mediaTypeDockerManifest, Layers: []descriptor{}}
	man.Config = descriptor{MediaType: mediaTypeDockerConfig, Size: int64(len(cfgRaw)), Digest: id}
	oci := false
	for _, l := range layers {
		mt := mediaTypeDockerLayer
		if l.MediaType == ocispec.MediaTypeImageLayerZstd {
			mt, oci = l.MediaType, true
		}
		man.Layers = append(man.Layers, descriptor{MediaType: mt, Size: l.BlobSize, Digest: l.Blob})
	}
	if oci {
		man.MediaType, man.Config.MediaType = ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig
		for i := range man.Layers {
			if man.Layers[i].MediaType == mediaTypeDockerLayer {
				man.Layers[i].MediaType = ocispec.MediaTypeImageLayerGzip
			}
		}
	}
	raw, err := json.MarshalIndent(man, "", "   ")
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	return raw, ocispec.Descriptor{MediaType: man.MediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}, nil
}
