package build

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/util/progress"
	"github.com/moby/buildkit/worker/base"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	bcontent "github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/snapshot"
)

// ImageStore is what the builder needs of berth's image store: its images
// as a registry serves them (for FROM) and the ingestion of built images.
type ImageStore interface {
	localImages
	BlobWriter(ctx context.Context) (*bcontent.Writer, error)
	ApplyLayer(ctx context.Context, parent digest.Digest, tar io.Reader, diffID digest.Digest) (snapshot.Info, error)
	Lease(blobs, chainIDs []digest.Digest) (*image.Lease, error)
	LayerByChainID(chainID digest.Digest) (image.Layer, bool)
	LinkBlob(ctx context.Context, src string, d digest.Digest) error
	RecordBuild(ctx context.Context, config []byte, layers []image.Layer, names []reference.NamedTagged) (digest.Digest, error)
	RecordPush(ctx context.Context, ref reference.Named, id digest.Digest, raw []byte, desc ocispec.Descriptor) error
}

// exporterMoby is the exporter buildx's docker driver asks for.
const exporterMoby = "moby"

// berthWorker is BuildKit's worker with the "moby" and "image" exporters
// landing images in berth's store.
type berthWorker struct {
	*base.Worker
	b *Builder
}

// Labels implements worker.Worker: the worker's, with the host-gateway
// address buildx and berth build read for --add-host x:host-gateway.
func (w *berthWorker) Labels() map[string]string {
	l := maps.Clone(w.Worker.Labels())
	maps.Copy(l, w.b.hostGatewayLabels())
	return l
}

// Exporter implements worker.Worker.
func (w *berthWorker) Exporter(name string, sm *session.Manager) (exporter.Exporter, error) {
	if (name == exporterMoby || name == client.ExporterImage) && w.b.cfg.Images != nil {
		inner, err := w.Worker.Exporter(client.ExporterImage, sm)
		if err != nil {
			return nil, err
		}
		return &storeExporter{inner: inner, b: w.b, cs: w.Worker.ContentStore(), blobs: filepath.Join(w.Worker.Root, "content", "blobs"), moby: name == exporterMoby}, nil
	}
	return w.Worker.Exporter(name, sm)
}

// storeExporter has BuildKit's image exporter write the image (config,
// manifest, layer blobs) into the worker's content store, then ingests it
// into berth's store: layer blobs copied and unpacked once, layers berth
// has already (the base image's) reused as they are.
//
// The direct route, a worker on berth's own content store and snapshots,
// would save the copy and the unpacking; it is the goal (see DESIGN.md).
type storeExporter struct {
	inner exporter.Exporter
	b     *Builder
	cs    content.Provider
	blobs string // where the worker's content store keeps its blob files
	moby  bool
}

// Resolve implements exporter.Exporter. Of the image exporter's options,
// name, push, store and unpack are the store's; layers stay uncompressed
// (nothing to compress for a local store) unless the image is pushed or a
// compression is asked for.
func (e *storeExporter) Resolve(ctx context.Context, id int, opts map[string]string) (exporter.ExporterInstance, error) {
	inner := map[string]string{}
	var names []reference.NamedTagged
	var rawNames []string
	push := false
	for k, v := range opts {
		switch exptypes.ImageExporterOptKey(k) {
		case exptypes.OptKeyName:
			for _, n := range strings.Split(v, ",") {
				n = strings.TrimSpace(n)
				if n == "" {
					continue
				}
				named, err := reference.ParseNormalizedNamed(n)
				if err != nil {
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid reference format: %s", n))
				}
				tagged, ok := reference.TagNameOnly(named).(reference.NamedTagged)
				if !ok {
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%s: a build's name takes a tag, not a digest", n))
				}
				names = append(names, tagged)
				rawNames = append(rawNames, tagged.String())
			}
		case exptypes.OptKeyPush:
			if v == "" {
				push = true
				continue
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("non-bool value specified for %s", k))
			}
			push = b
		case exptypes.OptKeyStore, exptypes.OptKeyUnpack, exptypes.OptKeyDanglingPrefix, exptypes.OptKeyDanglingEmptyOnly, exptypes.OptKeyNameCanonical:
		default:
			inner[k] = v
		}
	}
	if push {
		if len(rawNames) == 0 {
			return nil, errdefs.ErrInvalidArgument.WithMessage("push needs an image name")
		}
		inner[string(exptypes.OptKeyName)] = strings.Join(rawNames, ",")
		inner[string(exptypes.OptKeyPush)] = "true"
		if _, ok := inner["force-compression"]; !ok {
			// Local bases are served uncompressed: registries get gzip, as
			// from dockerd.
			inner["force-compression"] = "true"
		}
	} else if _, ok := inner["compression"]; !ok {
		inner["compression"] = "uncompressed"
	}
	ii, err := e.inner.Resolve(ctx, id, inner)
	if err != nil {
		return nil, err
	}
	return &storeInstance{ExporterInstance: ii, e: e, names: names, attrs: opts}, nil
}

// storeInstance is one export into berth's store.
type storeInstance struct {
	exporter.ExporterInstance
	e     *storeExporter
	names []reference.NamedTagged
	attrs map[string]string
}

// Name implements exporter.ExporterInstance.
func (i *storeInstance) Name() string { return "exporting to image" }

// Attrs implements exporter.ExporterInstance.
func (i *storeInstance) Attrs() map[string]string { return i.attrs }

// Export implements exporter.ExporterInstance: the image exporter commits
// the image to BuildKit's content store, then it is stored and named in
// berth's. A push (finalize) goes from BuildKit's content store.
func (i *storeInstance) Export(ctx context.Context, src *exporter.Source, info exporter.ExportBuildInfo) (map[string]string, exporter.FinalizeFunc, exporter.DescriptorReference, error) {
	began := time.Now()
	resp, finalize, ref, err := i.ExporterInstance.Export(ctx, src, info)
	if err != nil {
		return nil, nil, nil, err
	}
	committed := time.Now()
	man, cfgRaw, err := readImage(ctx, i.e.cs, ref.Descriptor())
	if err != nil {
		_ = ref.Release()
		return nil, nil, nil, err
	}
	done := progress.OneOff(ctx, "writing image "+man.Config.Digest.String())
	id, err := i.e.b.storeBuilt(ctx, i.e.cs, i.e.blobs, man, cfgRaw, i.names)
	if done(err) != nil {
		_ = ref.Release()
		return nil, nil, nil, err
	}
	for _, n := range i.names {
		progress.OneOff(ctx, "naming to "+n.String())(nil)
	}
	i.e.b.log.Debug("build: image stored", "id", id, "commit", committed.Sub(began), "store", time.Since(committed))
	if resp == nil {
		resp = map[string]string{}
	}
	resp[exptypes.ExporterImageConfigDigestKey] = id.String()
	if i.e.moby || resp[exptypes.ExporterImageDigestKey] == "" {
		// dockerd's moby exporter answers with the image id.
		resp[exptypes.ExporterImageDigestKey] = id.String()
	}
	if len(i.names) > 0 {
		var names []string
		for _, n := range i.names {
			names = append(names, n.String())
		}
		resp[exptypes.ExporterImageNameKey] = strings.Join(names, ",")
	}
	if top := ref.Descriptor(); finalize != nil && images.IsManifestType(top.MediaType) {
		// Once pushed, the manifest is the image's repository digest.
		push := finalize
		finalize = func(ctx context.Context) error {
			if err := push(ctx); err != nil {
				return err
			}
			raw, err := content.ReadBlob(ctx, i.e.cs, top)
			if err != nil {
				return err
			}
			for _, n := range i.names {
				if err := i.e.b.cfg.Images.RecordPush(ctx, n, id, raw, top); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return resp, finalize, ref, nil
}

// readImage reads the image manifest (the host's, from an index) and
// config that desc names.
func readImage(ctx context.Context, cs content.Provider, desc ocispec.Descriptor) (ocispec.Manifest, []byte, error) {
	var man ocispec.Manifest
	raw, err := content.ReadBlob(ctx, cs, desc)
	if err != nil {
		return man, nil, fmt.Errorf("read built image: %w", err)
	}
	if images.IsIndexType(desc.MediaType) {
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return man, nil, fmt.Errorf("read built image index: %w", err)
		}
		found := false
		for _, m := range idx.Manifests {
			if _, att := m.Annotations["vnd.docker.reference.type"]; att || !images.IsManifestType(m.MediaType) {
				continue
			}
			if raw, err = content.ReadBlob(ctx, cs, m); err != nil {
				return man, nil, fmt.Errorf("read built image: %w", err)
			}
			found = true
			break
		}
		if !found {
			return man, nil, fmt.Errorf("built image index %s holds no image", desc.Digest)
		}
	}
	if err := json.Unmarshal(raw, &man); err != nil {
		return man, nil, fmt.Errorf("read built image manifest: %w", err)
	}
	cfg, err := content.ReadBlob(ctx, cs, man.Config)
	if err != nil {
		return man, nil, fmt.Errorf("read built image config: %w", err)
	}
	return man, cfg, nil
}

// storeBuilt ingests a built image into berth's store and names it.
func (b *Builder) storeBuilt(ctx context.Context, cs content.Provider, blobDir string, man ocispec.Manifest, cfgRaw []byte, names []reference.NamedTagged) (digest.Digest, error) {
	store := b.cfg.Images
	var cfg ocispec.Image
	if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
		return "", fmt.Errorf("built image config: %w", err)
	}
	diffIDs := cfg.RootFS.DiffIDs
	if len(diffIDs) != len(man.Layers) {
		return "", fmt.Errorf("built image has %d layers, its config %d", len(man.Layers), len(diffIDs))
	}
	chains := image.ChainIDs(diffIDs)
	blobs := make([]digest.Digest, 0, len(man.Layers))
	for _, l := range man.Layers {
		blobs = append(blobs, l.Digest)
	}
	lease, err := store.Lease(blobs, chains)
	if err != nil {
		return "", err
	}
	layers := make([]image.Layer, 0, len(diffIDs))
	var parent digest.Digest
	for n, diffID := range diffIDs {
		l, ok := store.LayerByChainID(chains[n])
		if !ok {
			if l, err = ingestLayer(ctx, store, cs, blobDir, man.Layers[n], parent, diffID); err != nil {
				lease.Discard(ctx)
				return "", fmt.Errorf("store layer %s: %w", diffID, err)
			}
		}
		layers = append(layers, l)
		parent = chains[n]
	}
	id, err := store.RecordBuild(ctx, cfgRaw, layers, names)
	if err != nil {
		lease.Discard(ctx)
		return "", err
	}
	lease.Release()
	return id, nil
}

// ingestLayer makes a built layer berth's: its blob hard-linked from the
// worker's content store (copied where linking fails) and unpacked on
// parent.
func ingestLayer(ctx context.Context, store ImageStore, cs content.Provider, blobDir string, desc ocispec.Descriptor, parent, diffID digest.Digest) (image.Layer, error) {
	src := filepath.Join(blobDir, desc.Digest.Algorithm().String(), desc.Digest.Encoded())
	if st, err := os.Stat(src); blobDir == "" || err != nil || st.Size() != desc.Size {
		return copyLayer(ctx, store, cs, desc, parent, diffID)
	}
	f, err := os.Open(src)
	if err != nil {
		return copyLayer(ctx, store, cs, desc, parent, diffID)
	}
	defer f.Close()
	info, err := applyBlob(ctx, store, f, desc, parent, diffID)
	if err != nil {
		return image.Layer{}, err
	}
	if err := store.LinkBlob(ctx, src, desc.Digest); err != nil {
		return copyLayer(ctx, store, cs, desc, parent, diffID)
	}
	return builtLayer(desc, diffID, info), nil
}

// builtLayer is the record of a stored built layer.
func builtLayer(desc ocispec.Descriptor, diffID digest.Digest, info snapshot.Info) image.Layer {
	mt := desc.MediaType
	if desc.Digest == diffID {
		mt = ocispec.MediaTypeImageLayer
	}
	return image.Layer{Blob: desc.Digest, MediaType: mt, BlobSize: desc.Size, Snapshot: info}
}

// copyLayer copies a layer blob into berth's content store and unpacks
// it on parent, in one pass.
func copyLayer(ctx context.Context, store ImageStore, cs content.Provider, desc ocispec.Descriptor, parent, diffID digest.Digest) (image.Layer, error) {
	ra, err := cs.ReaderAt(ctx, desc)
	if err != nil {
		return image.Layer{}, err
	}
	defer ra.Close()
	w, err := store.BlobWriter(ctx)
	if err != nil {
		return image.Layer{}, err
	}
	defer w.Abort()
	raw := io.TeeReader(content.NewReader(ra), w)
	info, err := applyBlob(ctx, store, raw, desc, parent, diffID)
	if err != nil {
		return image.Layer{}, err
	}
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return image.Layer{}, err
	}
	if _, err := w.Commit(ctx, desc.Size, desc.Digest); err != nil {
		return image.Layer{}, err
	}
	return builtLayer(desc, diffID, info), nil
}

// applyBlob unpacks the layer blob desc on parent, decompressing it unless
// it is the tar itself (its digest is its diffID: BuildKit's uncompressed
// layers).
func applyBlob(ctx context.Context, store ImageStore, blob io.Reader, desc ocispec.Descriptor, parent, diffID digest.Digest) (snapshot.Info, error) {
	if desc.Digest == diffID {
		return store.ApplyLayer(ctx, parent, blob, diffID)
	}
	tar, err := compression.DecompressStream(blob)
	if err != nil {
		return snapshot.Info{}, fmt.Errorf("decompress layer %s: %w", desc.Digest, err)
	}
	defer tar.Close()
	return store.ApplyLayer(ctx, parent, tar, diffID)
}
