package distribution

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/image"
	reg "github.com/berth-project/berth/internal/registry"
)

// PullOptions configure Pull.
type PullOptions struct {
	Auth     registry.AuthConfig
	Platform *ocispec.Platform // nil: the host's
	Progress Progress          // may be nil
}

// PullResult is what a pull produced.
type PullResult struct {
	ID       string        // the image id
	Digest   digest.Digest // the manifest (or index) digest the reference resolved to
	UpToDate bool          // the reference already named this image
}

// Media types of registry manifests.
const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeSchema1        = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeSchema1Signed  = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// maxConfigSize bounds image configs read into memory.
const maxConfigSize = 8 << 20

// Pull fetches ref (name[:tag] or name@digest) from its registry, like
// docker pull: the manifest (the platform's from an index), the config,
// then the layers, downloaded in parallel into the content store and
// unpacked as they arrive, each checked against its digest. The image
// becomes visible (and ref points at it) only once everything is verified;
// on failure nothing is visible, and the blobs and layers already verified
// are kept for the next pull, unless the registry sent bad data.
func (s *Service) Pull(ctx context.Context, ref reference.Named, opts PullOptions) (*PullResult, error) {
	named := reference.TagNameOnly(ref)
	p := &puller{s: s, named: named, opts: opts}
	if p.opts.Progress == nil {
		p.opts.Progress = func(ProgressEvent) {}
	}
	start := time.Now()
	res, err := p.run(ctx)
	if err != nil {
		err = reg.PullError(err, named, !reg.HasCredentials(opts.Auth))
		s.log.Debug("pull failed", "ref", named.String(), "error", err)
		return nil, err
	}
	s.log.Debug("pulled", "ref", named.String(), "id", res.ID, "digest", res.Digest, "elapsed", time.Since(start))
	return res, nil
}

// puller is one Pull's state.
type puller struct {
	s      *Service
	named  reference.Named
	opts   PullOptions
	repo   name.Repository
	remote *remote.Puller
	sess   *session
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

// connect authenticates for pulling from the reference's repository.
func (p *puller) connect(ctx context.Context) error {
	repo, err := repoName(p.named)
	if err != nil {
		return err
	}
	sess, err := p.s.connect(ctx, repo.Registry, p.opts.Auth, []string{repo.Scope(transport.PullScope)})
	if err != nil {
		return err
	}
	rp, err := remote.NewPuller(remote.WithTransport(sess.rt), remote.WithJobs(p.s.opts.Downloads))
	if err != nil {
		return err
	}
	p.repo, p.remote, p.sess = repo, rp, sess
	return nil
}

// manifest fetches the manifest (or index) that ref, a tag or a digest of
// the repository, names; go-containerregistry checks it against a digest.
func (p *puller) manifest(ctx context.Context, ref string) ([]byte, ocispec.Descriptor, error) {
	var r name.Reference = p.repo.Tag(ref)
	if _, err := digest.Parse(ref); err == nil {
		r = p.repo.Digest(ref)
	}
	d, err := p.remote.Get(ctx, r)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{
		MediaType: manifestMediaType(string(d.MediaType), d.Manifest),
		Digest:    digest.Digest(d.Digest.String()),
		Size:      d.Size,
	}
	return d.Manifest, desc, nil
}

// blob starts the download of a blob of the repository, through the
// session's authenticated go-containerregistry transport. Its data is not
// verified here: every caller hashes what it reads (the content writer for
// layers, config for configs), and go-containerregistry's remote layer
// would hash it a second time, which costs a layer's pull about a third of
// its CPU time.
func (p *puller) blob(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	u := p.sess.ep.URL("/v2/" + p.repo.RepositoryStr() + "/blobs/" + d.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: p.sess.rt}).Do(req)
	if err != nil {
		return nil, p.sess.ep.FixError(err)
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp.Body, nil
}

// config downloads and verifies an image config.
func (p *puller) config(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxConfigSize {
		return nil, fmt.Errorf("image config %s is larger than %d bytes", desc.Digest, maxConfigSize)
	}
	body, err := p.blob(ctx, desc.Digest)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, maxConfigSize+1))
	if digest.FromBytes(data) != desc.Digest || (desc.Size > 0 && int64(len(data)) != desc.Size) {
		return nil, fmt.Errorf("image config verification failed for digest %s", desc.Digest)
	}
	if err != nil {
		return nil, fmt.Errorf("read image config %s: %w", desc.Digest, err)
	}
	return data, nil
}

func (p *puller) run(ctx context.Context) (*PullResult, error) {
	if err := p.connect(ctx); err != nil {
		return nil, err
	}
	raw, top, err := p.manifest(ctx, p.tagOrDigest())
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

	pulled := image.Pulled{Ref: p.named, ConfigDigest: m.Config.Digest, Manifest: manifestRaw, ManifestDesc: desc, Top: top.Digest}
	if p.s.store.HasImage(m.Config.Digest) {
		// As docker: no layer is fetched, the references and the manifest
		// are recorded.
		le, err := p.s.store.Lease([]digest.Digest{desc.Digest}, nil)
		if err != nil {
			return nil, err
		}
		defer le.Release()
		return p.record(ctx, pulled)
	}
	cfgRaw, err := p.config(ctx, m.Config)
	if err != nil {
		return nil, err
	}
	diffIDs, err := p.checkConfig(cfgRaw, len(m.Layers))
	if err != nil {
		return nil, err
	}
	blobs := []digest.Digest{m.Config.Digest, desc.Digest}
	for _, d := range m.Layers {
		blobs = append(blobs, d.Digest)
	}
	le, err := p.s.store.Lease(blobs, image.ChainIDs(diffIDs))
	if err != nil {
		return nil, err
	}
	pulled.Config = cfgRaw
	if pulled.Layers, err = p.layers(ctx, m.Layers, diffIDs); err == nil {
		var res *PullResult
		if res, err = p.record(ctx, pulled); err == nil {
			le.Release()
			return res, nil
		}
	}
	if isRegistryDataError(err) {
		le.Discard(ctx)
	} else {
		le.Keep()
	}
	return nil, err
}

// record makes the image visible and says so as docker does.
func (p *puller) record(ctx context.Context, pulled image.Pulled) (*PullResult, error) {
	id, upToDate, err := p.s.store.RecordPull(ctx, pulled)
	if err != nil {
		return nil, err
	}
	p.progress(ProgressEvent{Status: "Digest: " + pulled.Top.String()})
	if upToDate {
		p.progress(ProgressEvent{Status: "Status: Image is up to date for " + reference.FamiliarString(p.named)})
	} else {
		p.progress(ProgressEvent{Status: "Status: Downloaded newer image for " + reference.FamiliarString(p.named)})
	}
	return &PullResult{ID: id.String(), Digest: pulled.Top, UpToDate: upToDate}, nil
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
	want := platformOrHost(p.opts.Platform)
	for _, m := range idx.Manifests {
		if m.Platform == nil || !platformMatches(want, *m.Platform) {
			continue
		}
		if err := m.Digest.Validate(); err != nil {
			return nil, desc, fmt.Errorf("invalid manifest list %s: %w", desc.Digest, err)
		}
		return p.manifest(ctx, m.Digest.String())
	}
	return nil, desc, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("no matching manifest for %s in the manifest list entries", platformString(want)))
}

// platformOrHost is the requested platform, else the host's.
func platformOrHost(want *ocispec.Platform) ocispec.Platform {
	if want != nil && want.OS != "" {
		pl := *want
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

// manifestTypes are the manifests berth knows.
var manifestTypes = []string{ocispec.MediaTypeImageIndex, mediaTypeDockerList, ocispec.MediaTypeImageManifest, mediaTypeDockerManifest, mediaTypeSchema1Signed, mediaTypeSchema1}

// manifestMediaType is the manifest's media type from its Content-Type,
// else from its "mediaType" field, else from its shape: some registries
// send a generic Content-Type.
func manifestMediaType(contentType string, raw []byte) string {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.TrimSpace(ct)
	for _, t := range manifestTypes {
		if ct == t {
			return t
		}
	}
	var probe struct {
		MediaType     string          `json:"mediaType"`
		SchemaVersion int             `json:"schemaVersion"`
		Manifests     json.RawMessage `json:"manifests"`
		Config        json.RawMessage `json:"config"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return ct
	}
	switch {
	case probe.MediaType != "":
		return probe.MediaType
	case probe.SchemaVersion == 1:
		return mediaTypeSchema1
	case probe.Manifests != nil:
		return ocispec.MediaTypeImageIndex
	case probe.Config != nil:
		return ocispec.MediaTypeImageManifest
	}
	return ct
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
		want := platformOrHost(p.opts.Platform)
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

// isJSONObject reports whether raw parses as a JSON object.
func isJSONObject(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && json.Valid(raw)
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
