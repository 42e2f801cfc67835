package build

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/image"
)

// The mirror serves berth's local images to BuildKit as a read-only OCI
// distribution registry (GET and HEAD of /v2/, manifests by tag and by
// digest, blobs) through an http.RoundTripper: no socket, no network. It is
// the first host BuildKit tries for every registry, so FROM busybox uses
// the local busybox, byte for byte the blobs berth stores; what it lacks
// falls through to the registry.

// localImages is what the mirror reads of the image store.
type localImages interface {
	Distributable(ctx context.Context, ref string) (*image.Distributable, error)
	ImageIDs(ctx context.Context) []string
	ReadBlob(ctx context.Context, d digest.Digest) ([]byte, error)
	OpenBlob(ctx context.Context, d digest.Digest) (*os.File, error)
	BlobSize(ctx context.Context, d digest.Digest) (int64, error)
}

// mirror answers registry requests from the local store.
type mirror struct {
	store localImages
	mu    sync.Mutex
	// served are the manifests served so far by digest, as a registry
	// keeps them: a digest resolved from a tag stays fetchable.
	served map[digest.Digest]servedManifest
}

type servedManifest struct {
	raw       []byte
	mediaType string
}

func newMirror(store localImages) *mirror {
	return &mirror{store: store, served: map[digest.Digest]servedManifest{}}
}

// registryHost is the mirror as BuildKit's first host for registry host:
// plain HTTP to the registry's own name, whose /v2/ requests the mirror
// answers; the others (token requests, made with the first host's
// client) go to next, the registry's real transport.
func (m *mirror) registryHost(host string, next http.RoundTripper) docker.RegistryHost {
	return docker.RegistryHost{
		Client:       &http.Client{Transport: &mirrorTransport{m: m, host: host, next: next}},
		Host:         host,
		Scheme:       "http",
		Path:         "/v2",
		Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve,
	}
}

// mirrorTransport routes the mirror's own requests (plain HTTP to its
// host under /v2/) to the mirror and everything else (token servers) to
// next.
type mirrorTransport struct {
	m    *mirror
	host string
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *mirrorTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || req.URL.Host != t.host || !strings.HasPrefix(req.URL.Path, "/v2/") {
		return t.next.RoundTrip(req)
	}
	if req.Body != nil {
		req.Body.Close()
	}
	return t.m.serve(req, t.host), nil
}

// serve answers one registry request for host.
func (m *mirror) serve(req *http.Request, host string) *http.Response {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return response(req, http.StatusMethodNotAllowed, nil, nil, 0)
	}
	p := strings.TrimPrefix(req.URL.Path, "/v2/")
	if p == "" {
		return response(req, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, io.NopCloser(strings.NewReader("{}")), 2)
	}
	ctx := req.Context()
	if i := strings.LastIndex(p, "/manifests/"); i > 0 {
		return m.manifest(req, host+"/"+p[:i], p[i+len("/manifests/"):])
	}
	if i := strings.LastIndex(p, "/blobs/"); i > 0 {
		d, err := digest.Parse(p[i+len("/blobs/"):])
		if err != nil {
			return notFoundResponse(req, "BLOB_UNKNOWN")
		}
		size, err := m.store.BlobSize(ctx, d)
		if err != nil {
			return notFoundResponse(req, "BLOB_UNKNOWN")
		}
		h := http.Header{"Content-Type": {"application/octet-stream"}, "Docker-Content-Digest": {d.String()}}
		if req.Method == http.MethodHead {
			return response(req, http.StatusOK, h, nil, size)
		}
		f, err := m.store.OpenBlob(ctx, d)
		if err != nil {
			return notFoundResponse(req, "BLOB_UNKNOWN")
		}
		return response(req, http.StatusOK, h, f, size)
	}
	return notFoundResponse(req, "NAME_UNKNOWN")
}

// manifest answers a manifest request for repo ("host/path") by tag or
// digest.
func (m *mirror) manifest(req *http.Request, repo, ref string) *http.Response {
	ctx := req.Context()
	var man servedManifest
	var d digest.Digest
	if parsed, err := digest.Parse(ref); err == nil {
		var ok bool
		if man, ok = m.byDigest(ctx, repo, parsed); !ok {
			return notFoundResponse(req, "MANIFEST_UNKNOWN")
		}
		d = parsed
	} else {
		if forcePull(ctx) {
			return notFoundResponse(req, "MANIFEST_UNKNOWN")
		}
		img, err := m.store.Distributable(ctx, repo+":"+ref)
		if err != nil {
			return notFoundResponse(req, "MANIFEST_UNKNOWN")
		}
		if man, err = m.manifestOf(ctx, img); err != nil {
			return notFoundResponse(req, "MANIFEST_UNKNOWN")
		}
		d = digest.FromBytes(man.raw)
		m.mu.Lock()
		m.served[d] = man
		m.mu.Unlock()
	}
	h := http.Header{"Content-Type": {man.mediaType}, "Docker-Content-Digest": {d.String()}}
	if req.Method == http.MethodHead {
		return response(req, http.StatusOK, h, nil, int64(len(man.raw)))
	}
	return response(req, http.StatusOK, h, io.NopCloser(bytes.NewReader(man.raw)), int64(len(man.raw)))
}

// byDigest finds the manifest with digest d: one served before, one
// recorded for repo@d, else the one any local image would be served with.
func (m *mirror) byDigest(ctx context.Context, repo string, d digest.Digest) (servedManifest, bool) {
	m.mu.Lock()
	man, ok := m.served[d]
	m.mu.Unlock()
	if ok {
		return man, true
	}
	var candidates []string
	if _, err := m.store.Distributable(ctx, repo+"@"+d.String()); err == nil {
		candidates = append(candidates, repo+"@"+d.String())
	}
	candidates = append(candidates, m.store.ImageIDs(ctx)...)
	for _, ref := range candidates {
		img, err := m.store.Distributable(ctx, ref)
		if err != nil {
			continue
		}
		man, err := m.manifestOf(ctx, img)
		if err != nil || digest.FromBytes(man.raw) != d {
			continue
		}
		m.mu.Lock()
		m.served[d] = man
		m.mu.Unlock()
		return man, true
	}
	return servedManifest{}, false
}

// servedImageID is the id (config digest) of the local image whose
// manifest the mirror served as d; false for a manifest it did not serve
// (a base image resolved at its registry).
func (m *mirror) servedImageID(d digest.Digest) (digest.Digest, bool) {
	m.mu.Lock()
	man, ok := m.served[d]
	m.mu.Unlock()
	if !ok {
		return "", false
	}
	var om ocispec.Manifest
	if json.Unmarshal(man.raw, &om) != nil || om.Config.Digest == "" {
		return "", false
	}
	return om.Config.Digest, true
}

// manifestOf is the manifest the mirror serves for img: a recorded one
// whose blobs are the image's stored ones (byte for byte, so the digest is
// the registry's), else an OCI manifest of the stored blobs.
func (m *mirror) manifestOf(ctx context.Context, img *image.Distributable) (servedManifest, error) {
	for _, known := range img.Manifests {
		raw, err := m.store.ReadBlob(ctx, known.Digest)
		if err != nil {
			continue
		}
		var man ocispec.Manifest
		if json.Unmarshal(raw, &man) != nil || man.Config.Digest != img.ID || len(man.Layers) != len(img.Layers) {
			continue
		}
		same := true
		for i, l := range man.Layers {
			same = same && l.Digest == img.Layers[i].Blob
		}
		if same {
			mt := known.MediaType
			if mt == "" {
				mt = man.MediaType
			}
			return servedManifest{raw: raw, mediaType: mt}, nil
		}
	}
	man := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: img.ID, Size: int64(len(img.Config))},
		Layers:    []ocispec.Descriptor{},
	}
	man.SchemaVersion = 2
	for _, l := range img.Layers {
		man.Layers = append(man.Layers, ocispec.Descriptor{MediaType: ociLayerType(l), Digest: l.Blob, Size: l.BlobSize})
	}
	raw, err := json.Marshal(man)
	if err != nil {
		return servedManifest{}, err
	}
	return servedManifest{raw: raw, mediaType: ocispec.MediaTypeImageManifest}, nil
}

// ociLayerType is the OCI media type of a stored layer blob.
func ociLayerType(l image.Layer) string {
	switch {
	case l.Blob == l.Snapshot.DiffID:
		return ocispec.MediaTypeImageLayer
	case strings.Contains(l.MediaType, "zstd"):
		return ocispec.MediaTypeImageLayerZstd
	default:
		return ocispec.MediaTypeImageLayerGzip
	}
}

// response builds a registry response.
func response(req *http.Request, status int, h http.Header, body io.ReadCloser, size int64) *http.Response {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Docker-Distribution-Api-Version", "registry/2.0")
	if size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
	}
	if body == nil || req.Method == http.MethodHead {
		if body != nil {
			body.Close()
		}
		body = http.NoBody
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: body, ContentLength: size, Request: req,
	}
}

// notFoundResponse is a registry's 404 with its error code.
func notFoundResponse(req *http.Request, code string) *http.Response {
	body := fmt.Sprintf(`{"errors":[{"code":%q,"message":"not found locally"}]}`, code)
	return response(req, http.StatusNotFound, http.Header{"Content-Type": {"application/json"}}, io.NopCloser(strings.NewReader(body)), int64(len(body)))
}
