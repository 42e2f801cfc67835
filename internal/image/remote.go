package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	reg "github.com/berth-project/berth/internal/registry"
)

// Remote is how Pull and Push reach a registry: the endpoint (scheme, TLS)
// and the credentials sent to it.
type Remote struct {
	Endpoint  *reg.Endpoint
	Auth      registry.AuthConfig
	UserAgent string
}

// Progress receives a pull's or push's progress in docker's terms. It is
// called from several goroutines at once.
type Progress func(ProgressEvent)

// ProgressEvent is one progress message: an ID (a layer's short digest, a
// tag, or "" for a line about the whole operation), a status, and for
// transfers the bytes done and expected.
type ProgressEvent struct {
	ID             string
	Status         string
	Detail         bool // a layer's status: docker sends a progressDetail, even empty
	Current, Total int64
	Aux            any // push's closing {Tag, Digest, Size}
}

// Media types of registry manifests.
const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	mediaTypeSchema1        = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeSchema1Signed  = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// maxManifestSize bounds manifests and configs read into memory.
const maxManifestSize = 8 << 20

// repoName is go-containerregistry's name of a normalised reference's
// repository ("index.docker.io/library/busybox").
func repoName(named reference.Named) (name.Repository, error) {
	repo, err := name.NewRepository(reference.Domain(named) + "/" + reference.Path(named))
	if err != nil {
		return name.Repository{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return repo, nil
}

// client is an authenticated connection to one repository.
type client struct {
	r         Remote
	repo      name.Repository
	named     reference.Named
	http      *http.Client
	anonymous bool
}

// newClient pings the registry (settling HTTPS or HTTP) and sets up its
// authentication for scopes.
func newClient(ctx context.Context, r Remote, named reference.Named, scopes ...string) (*client, error) {
	repo, err := repoName(named)
	if err != nil {
		return nil, err
	}
	if err := r.Endpoint.Ping(ctx); err != nil {
		return nil, err
	}
	var rt http.RoundTripper = r.Endpoint.Transport()
	if r.UserAgent != "" {
		rt = transport.NewUserAgent(rt, r.UserAgent)
	}
	anonymous := !reg.HasCredentials(r.Auth)
	rt, err = transport.NewWithContext(ctx, repo.Registry, reg.Authenticator(r.Auth), rt, scopes)
	if err != nil {
		return nil, reg.Describe(r.Endpoint.FixError(err), anonymous)
	}
	return &client{r: r, repo: repo, named: named, http: &http.Client{Transport: rt}, anonymous: anonymous}, nil
}

func (c *client) url(kind, ref string) string {
	return c.r.Endpoint.URL("/v2/" + c.repo.RepositoryStr() + "/" + kind + "/" + ref)
}

func (c *client) do(req *http.Request, ok ...int) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.r.Endpoint.FixError(err)
	}
	if err := transport.CheckError(resp, ok...); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// manifestTypes are the manifests berth accepts, best first.
var manifestTypes = []string{ocispec.MediaTypeImageIndex, mediaTypeDockerList, ocispec.MediaTypeImageManifest, mediaTypeDockerManifest, mediaTypeSchema1Signed, mediaTypeSchema1}

// manifest fetches the manifest (or index) that ref (a tag or a digest)
// names and checks it against the digest when there is one.
func (c *client) manifest(ctx context.Context, ref string) ([]byte, ocispec.Descriptor, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("manifests", ref), nil)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	req.Header.Set("Accept", strings.Join(manifestTypes, ", "))
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("read manifest: %w", err)
	}
	if len(raw) > maxManifestSize {
		return nil, ocispec.Descriptor{}, fmt.Errorf("manifest %s is larger than %d bytes", ref, maxManifestSize)
	}
	desc := ocispec.Descriptor{Digest: digest.FromBytes(raw), Size: int64(len(raw)), MediaType: manifestMediaType(resp.Header.Get("Content-Type"), raw)}
	if want, err := digest.Parse(ref); err == nil && want != desc.Digest {
		return nil, ocispec.Descriptor{}, fmt.Errorf("manifest verification failed for digest %s", want)
	}
	return raw, desc, nil
}

// manifestMediaType is the manifest's media type from its Content-Type,
// else from its "mediaType" field, else from its shape.
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

// blob starts the download of a blob.
func (c *client) blob(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url("blobs", d.String()), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// smallBlob downloads a config-sized blob and verifies it.
func (c *client) smallBlob(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxManifestSize {
		return nil, fmt.Errorf("blob %s is larger than %d bytes", desc.Digest, maxManifestSize)
	}
	body, err := c.blob(ctx, desc.Digest)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	if digest.FromBytes(data) != desc.Digest || (desc.Size > 0 && int64(len(data)) != desc.Size) {
		return nil, fmt.Errorf("image config verification failed for digest %s", desc.Digest)
	}
	return data, nil
}

// throttle lets through one progress update per interval, and the last.
type throttle struct {
	mu   sync.Mutex
	last time.Time
}

func (t *throttle) ok(final bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if !final && now.Sub(t.last) < 100*time.Millisecond {
		return false
	}
	t.last = now
	return true
}

// isJSONObject reports whether raw parses as a JSON object.
func isJSONObject(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && json.Valid(raw)
}
