package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	reg "github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/snapshot"
)

// PullOptions configure Pull.
type PullOptions struct {
	Remote   Remote
	Platform *ocispec.Platform // nil: the host's
	Progress Progress          // may be nil
	// Downloads bounds the layers downloaded at once (dockerd's
	// max-concurrent-downloads); 3 when zero.
	Downloads int
}

// PullResult is what a pull produced.
type PullResult struct {
	ID       string        // the image id
	Digest   digest.Digest // the manifest (or index) digest the reference resolved to
	UpToDate bool          // the reference already named this image
}

// Pull fetches ref (name[:tag] or name@digest) from its registry, like
// docker pull: the manifest (the host's platform from an index), the
// config, then the layers, downloaded in parallel into the content store
// and unpacked as they arrive, each checked against its digest. The image
// becomes visible (and ref points at it) only once everything is verified;
// on failure nothing is visible, and the blobs and layers already verified
// are kept for the next pull, unless the registry sent bad data.
func (s *Store) Pull(ctx context.Context, ref string, opts PullOptions) (*PullResult, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, invalidRef(err)
	}
	named = reference.TagNameOnly(named)
	p := &puller{s: s, named: named, opts: opts}
	if p.opts.Progress == nil {
		p.opts.Progress = func(ProgressEvent) {}
	}
	if p.opts.Downloads <= 0 {
		p.opts.Downloads = 3
	}
	anonymous := !reg.HasCredentials(opts.Remote.Auth)
	res, err := p.run(ctx)
	if err != nil {
		return nil, reg.PullError(err, named, anonymous)
	}
	return res, nil
}

// puller is one Pull's state.
type puller struct {
	s     *Store
	named reference.Named
	opts  PullOptions
	c     *client
}

func (p *puller) progress(ev ProgressEvent) { p.opts.Progress(ev) }

// tagOrDigest is how docker names the reference in progress lines.
func (p *puller) tagOrDigest() string {
	if d, ok := p.named.(reference.Digested); ok {
		return d.Digest().String()
	}
	if t, ok := p.named.(reference.Tagged); ok {
		return t.Tag()
	}
	return "latest"
}

func (p *puller) run(ctx context.Context) (*PullResult, error) {
	c, err := newClient(ctx, p.opts.Remote, p.named, p.scope())
	if err != nil {
		return nil, err
	}
	p.c = c
	raw, top, err := c.manifest(ctx, p.tagOrDigest())
	if err != nil {
		return nil, err
	}
	manifestRaw, desc, err := p.resolvePlatform(ctx, raw, top)
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(manifestRaw, desc)
	if err != nil {
		return nil, err
	}
	p.progress(ProgressEvent{ID: p.tagOrDigest(), Status: "Pulling from " + reference.Path(p.named)})

	if res, ok, err := p.s.pullExisting(ctx, p, m, manifestRaw, desc, top.Digest); ok || err != nil {
		return res, err
	}
	cfgRaw, err := c.smallBlob(ctx, m.Config)
	if err != nil {
		return nil, err
	}
	diffIDs, err := p.checkConfig(cfgRaw, len(m.Layers))
	if err != nil {
		return nil, err
	}
	le, err := p.s.leasePull(m, desc.Digest, diffIDs)
	if err != nil {
		return nil, err
	}
	res, err := p.pullAndCommit(ctx, m, diffIDs, cfgRaw, manifestRaw, desc, top.Digest)
	p.s.endPull(ctx, le, err)
	return res, err
}

func (p *puller) pullAndCommit(ctx context.Context, m *ocispec.Manifest, diffIDs []digest.Digest, cfgRaw, manifestRaw []byte, desc ocispec.Descriptor, top digest.Digest) (*PullResult, error) {
	layers, err := p.s.pullLayers(ctx, p, m.Layers, diffIDs)
	if err != nil {
		return nil, err
	}
	return p.s.commitPull(ctx, p, layers, cfgRaw, manifestRaw, desc, top)
}

// leasePull keeps everything a pull needs (its manifest, config, layer
// blobs and layers) from garbage collection until endPull, so a concurrent
// removal never takes what the pull found or made.
func (s *Store) leasePull(m *ocispec.Manifest, manifest digest.Digest, diffIDs []digest.Digest) (*lease, error) {
	blobs := []digest.Digest{m.Config.Digest, manifest}
	for _, d := range m.Layers {
		blobs = append(blobs, d.Digest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leases.add(blobs, chainIDs(diffIDs))
}

// endPull ends a pull's lease. After a failure, what was verified is kept
// for the next pull, unless the registry sent bad data: then nothing of
// this pull stays.
func (s *Store) endPull(ctx context.Context, le *lease, err error) {
	bad := err != nil && isRegistryDataError(err)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leases.release(le, err != nil && !bad)
	if bad {
		_, gerr := s.gcLocked(context.WithoutCancel(ctx))
		logPullCleanup(ctx, gerr)
	}
}

func (p *puller) scope() string {
	return "repository:" + reference.Path(p.named) + ":pull"
}

// resolvePlatform returns the image manifest: raw itself, or the entry of
// an index for the wanted platform.
func (p *puller) resolvePlatform(ctx context.Context, raw []byte, desc ocispec.Descriptor) ([]byte, ocispec.Descriptor, error) {
	switch desc.MediaType {
	case mediaTypeSchema1, mediaTypeSchema1Signed:
		return nil, desc, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of %s to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2.", reference.FamiliarString(p.named)))
	case ocispec.MediaTypeImageIndex, mediaTypeDockerList:
	default:
		return raw, desc, nil
	}
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, desc, fmt.Errorf("invalid manifest list %s: %w", desc.Digest, err)
	}
	want := p.platform()
	for _, m := range idx.Manifests {
		if m.Platform == nil || !platformMatches(want, *m.Platform) {
			continue
		}
		if err := m.Digest.Validate(); err != nil {
			return nil, desc, fmt.Errorf("invalid manifest list %s: %w", desc.Digest, err)
		}
		child, cdesc, err := p.c.manifest(ctx, m.Digest.String())
		if err != nil {
			return nil, desc, err
		}
		return child, cdesc, nil
	}
	return nil, desc, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("no matching manifest for %s in the manifest list entries", platformString(want)))
}

// platform is the requested platform, else the host's.
func (p *puller) platform() ocispec.Platform {
	if p.opts.Platform != nil && p.opts.Platform.OS != "" {
		pl := *p.opts.Platform
		if pl.Architecture == "" {
			pl.Architecture = runtime.GOARCH
		}
		return pl
	}
	pl := ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm" {
		pl.Variant = "v7"
	}
	return pl
}

// platformMatches is docker's matching: same OS and architecture, and the
// variant when one is wanted (arm64's "v8" is its default).
func platformMatches(want, have ocispec.Platform) bool {
	if !strings.EqualFold(want.OS, have.OS) || !strings.EqualFold(want.Architecture, have.Architecture) {
		return false
	}
	if want.Variant == "" || strings.EqualFold(want.Variant, have.Variant) {
		return true
	}
	return want.Architecture == "arm64" && want.Variant == "v8" && have.Variant == ""
}

func platformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// parseManifest reads an image manifest and checks its descriptors.
func parseManifest(raw []byte, desc ocispec.Descriptor) (*ocispec.Manifest, error) {
	switch desc.MediaType {
	case ocispec.MediaTypeImageManifest, mediaTypeDockerManifest:
	case ocispec.MediaTypeImageIndex, mediaTypeDockerList:
		return nil, fmt.Errorf("invalid manifest %s: an index inside an index is not supported", desc.Digest)
	default:
		return nil, fmt.Errorf("unsupported manifest media type %q for %s", desc.MediaType, desc.Digest)
	}
	var m ocispec.Manifest
	if !isJSONObject(raw) {
		return nil, fmt.Errorf("invalid manifest %s: not a JSON object", desc.Digest)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("invalid manifest %s: %w", desc.Digest, err)
	}
	if err := m.Config.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("invalid manifest %s: config: %w", desc.Digest, err)
	}
	for i, l := range m.Layers {
		if err := l.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("invalid manifest %s: layer %d: %w", desc.Digest, i, err)
		}
		if l.Size < 0 {
			return nil, fmt.Errorf("invalid manifest %s: layer %d: negative size", desc.Digest, i)
		}
		if len(l.URLs) > 0 || strings.Contains(l.MediaType, "foreign") {
			return nil, fmt.Errorf("invalid manifest %s: layer %d: foreign layers are not supported", desc.Digest, i)
		}
	}
	return &m, nil
}

// checkConfig validates the image config against the manifest and the
// platform, returning its diff IDs.
func (p *puller) checkConfig(raw []byte, layers int) ([]digest.Digest, error) {
	var cfg ocispec.Image
	if !isJSONObject(raw) {
		return nil, errors.New("invalid image config: not a JSON object")
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("invalid image config: %w", err)
	}
	if cfg.OS != "" && cfg.OS != "linux" {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("image operating system %q cannot be used on this platform", cfg.OS))
	}
	if p.opts.Platform != nil && p.opts.Platform.OS != "" {
		want := p.platform()
		have := ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
		if !platformMatches(want, have) {
			return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("image with reference %s was found but does not match the specified platform: wanted %s, actual: %s", reference.FamiliarString(p.named), platformString(want), platformString(have)))
		}
	}
	if len(cfg.RootFS.DiffIDs) != layers {
		return nil, fmt.Errorf("invalid manifest, layers length mismatch: expected %d, got %d", len(cfg.RootFS.DiffIDs), layers)
	}
	for i, d := range cfg.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("invalid image config: diff ID %d: %w", i, err)
		}
	}
	return cfg.RootFS.DiffIDs, nil
}

// pullExisting finishes a pull whose image is already in the store, as
// docker does: no layer is fetched, the references and the manifest are
// recorded.
func (s *Store) pullExisting(ctx context.Context, p *puller, m *ocispec.Manifest, manifestRaw []byte, desc ocispec.Descriptor, top digest.Digest) (*PullResult, bool, error) {
	s.mu.RLock()
	_, ok := s.images[m.Config.Digest]
	s.mu.RUnlock()
	if !ok {
		return nil, false, nil
	}
	res, err := s.commitPull(ctx, p, nil, nil, manifestRaw, desc, top)
	return res, true, err
}

// commitPull makes the pulled image visible, records its manifest and
// points the references at it. layers is nil for an image already stored.
func (s *Store) commitPull(ctx context.Context, p *puller, layers []layerRecord, cfgRaw, manifestRaw []byte, desc ocispec.Descriptor, top digest.Digest) (*PullResult, error) {
	if _, err := s.content.WriteBlob(ctx, manifestRaw, desc.Digest); err != nil {
		return nil, err
	}
	var id digest.Digest
	if cfgRaw != nil {
		var err error
		if id, err = s.content.WriteBlob(ctx, cfgRaw, ""); err != nil {
			return nil, err
		}
	}
	canonical, err := reference.WithDigest(reference.TrimNamed(p.named), top)
	if err != nil {
		return nil, invalidRef(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec *record
	if layers == nil {
		var m ocispec.Manifest
		_ = json.Unmarshal(manifestRaw, &m)
		id = m.Config.Digest
		if rec = s.images[id]; rec == nil {
			return nil, fmt.Errorf("image %s vanished during the pull: %w", id, errdefs.ErrNotFound)
		}
	} else {
		rec = &record{ID: id, Layers: layers}
		if err := rec.setConfig(cfgRaw); err != nil {
			return nil, err
		}
		if old := s.images[id]; old != nil {
			rec.Manifests = old.Manifests
		}
	}
	rec.addManifest(manifestRecord{Digest: desc.Digest, MediaType: desc.MediaType, Size: desc.Size, Repos: []string{p.named.Name()}})
	if err := s.addImageLocked(rec); err != nil {
		return nil, err
	}
	rec = s.images[id]
	prev, hadRef := s.refs.get(p.named)
	upToDate := hadRef && prev == id
	if _, byDigest := p.named.(reference.Canonical); !byDigest {
		if !upToDate {
			if err := s.tagLocked(p.named, rec); err != nil {
				return nil, err
			}
		}
	}
	s.refs.set(canonical, id)
	if err := s.refs.save(); err != nil {
		return nil, err
	}
	p.progress(ProgressEvent{Status: "Digest: " + top.String()})
	if upToDate {
		p.progress(ProgressEvent{Status: "Status: Image is up to date for " + reference.FamiliarString(p.named)})
	} else {
		p.progress(ProgressEvent{Status: "Status: Downloaded newer image for " + reference.FamiliarString(p.named)})
	}
	return &PullResult{ID: id.String(), Digest: top, UpToDate: upToDate}, nil
}

// shortDigest is the 12-character id docker shows for a layer.
func shortDigest(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		e = e[:12]
	}
	return e
}

// isRegistryDataError tells failures caused by what the registry sent
// (bad digests, malformed documents), after which nothing is kept.
func isRegistryDataError(err error) bool {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return false
	}
	var v *verifyError
	return errors.As(err, &v) || errdefs.IsFailedPrecondition(err) || errdefs.IsInvalidArgument(err)
}

// verifyError is a blob whose content does not match its digest.
type verifyError struct{ digest digest.Digest }

func (e *verifyError) Error() string {
	return "filesystem layer verification failed for digest " + e.digest.String()
}

// chainIDs are the chain IDs of a layer stack.
func chainIDs(diffIDs []digest.Digest) []digest.Digest {
	out := make([]digest.Digest, len(diffIDs))
	var parent digest.Digest
	for i, d := range diffIDs {
		parent = snapshot.ChainID(parent, d)
		out[i] = parent
	}
	return out
}

func logPullCleanup(ctx context.Context, err error) {
	if err != nil {
		log.G(ctx).WithError(err).Warn("image pull: clean up")
	}
}
