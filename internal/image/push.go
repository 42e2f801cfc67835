package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	reg "github.com/berth-project/berth/internal/registry"
)

// PushOptions configure Push.
type PushOptions struct {
	Remote   Remote
	Progress Progress // may be nil
	// Uploads bounds the layers uploaded at once (dockerd's
	// max-concurrent-uploads); 5 when zero.
	Uploads int
}

// PushResult is one pushed tag.
type PushResult struct {
	Tag    string
	Digest digest.Digest
	Size   int
}

// Push sends the image repo:tag to its registry, or, with tag "", every
// tagged image of repo, like docker push. Blobs the registry has are
// skipped, blobs another repository of the registry has are mounted, the
// others are streamed from the content store; a pulled image is pushed
// with its original manifest, so its digest does not change. Layers stored
// uncompressed (imported, loaded) are gzip-compressed once and kept so.
func (s *Store) Push(ctx context.Context, repo, tag string, opts PushOptions) ([]PushResult, error) {
	if opts.Progress == nil {
		opts.Progress = func(ProgressEvent) {}
	}
	if opts.Uploads <= 0 {
		opts.Uploads = 5
	}
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		return nil, invalidRef(err)
	}
	if _, ok := named.(reference.Digested); ok {
		return nil, errdefs.ErrInvalidArgument.WithMessage("cannot push a digest reference")
	}
	if tag != "" {
		if named, err = reference.WithTag(reference.TrimNamed(named), tag); err != nil {
			return nil, invalidRef(err)
		}
	}
	targets, err := s.pushTargets(named)
	if err != nil {
		return nil, err
	}
	opts.Progress(ProgressEvent{Status: "The push refers to repository [" + named.Name() + "]"})
	if len(targets) == 0 {
		if _, ok := named.(reference.Tagged); ok {
			return nil, errdefs.ErrNotFound.WithMessage("tag does not exist: " + reference.FamiliarString(named))
		}
		return nil, errdefs.ErrNotFound.WithMessage("An image does not exist locally with the tag: " + reference.FamiliarName(named))
	}
	anonymous := !reg.HasCredentials(opts.Remote.Auth)
	var results []PushResult
	for _, t := range targets {
		res, err := s.pushOne(ctx, t.ref, t.id, opts)
		if err != nil {
			return results, reg.Describe(err, anonymous)
		}
		results = append(results, res)
	}
	return results, nil
}

type pushTarget struct {
	ref reference.NamedTagged
	id  digest.Digest
}

// pushTargets are the tags to push: named's, or all of its repository's.
func (s *Store) pushTargets(named reference.Named) ([]pushTarget, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if tagged, ok := named.(reference.NamedTagged); ok {
		if id, ok := s.refs.get(tagged); ok && s.images[id] != nil {
			return []pushTarget{{tagged, id}}, nil
		}
		return nil, nil
	}
	var out []pushTarget
	for _, e := range s.refs.all() {
		tagged, ok := e.named.(reference.NamedTagged)
		if !ok || e.named.Name() != named.Name() || s.images[e.id] == nil {
			continue
		}
		out = append(out, pushTarget{tagged, e.id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ref.Tag() < out[j].ref.Tag() })
	return out, nil
}

// pushLayer is one layer as pushed.
type pushLayer struct {
	layerRecord
	id string // short diff ID
}

// pushOne pushes one tag.
func (s *Store) pushOne(ctx context.Context, ref reference.NamedTagged, id digest.Digest, opts PushOptions) (PushResult, error) {
	layers, cfgRaw, manifests, err := s.pushableImage(ctx, id)
	if err != nil {
		return PushResult{}, err
	}
	blobs := []digest.Digest{id}
	for _, l := range layers {
		blobs = append(blobs, l.Blob)
	}
	for _, m := range manifests {
		blobs = append(blobs, m.Digest)
	}
	s.mu.Lock()
	le, err := s.leases.add(blobs, nil)
	s.mu.Unlock()
	if err != nil {
		return PushResult{}, err
	}
	defer func() {
		s.mu.Lock()
		s.leases.release(le, false)
		s.mu.Unlock()
	}()

	// Mount candidates: repositories of the same registry known to hold
	// the image's blobs.
	var mountFrom []string
	scopes := []string{"repository:" + reference.Path(ref) + ":push,pull"}
	for _, m := range manifests {
		for _, r := range m.Repos {
			src, err := reference.ParseNormalizedNamed(r)
			if err != nil || reference.Domain(src) != reference.Domain(ref) || src.Name() == ref.Name() {
				continue
			}
			if !contains(mountFrom, reference.Path(src)) {
				mountFrom = append(mountFrom, reference.Path(src))
				scopes = append(scopes, "repository:"+reference.Path(src)+":pull")
			}
		}
	}
	c, err := newClient(ctx, opts.Remote, ref, scopes...)
	if err != nil {
		return PushResult{}, err
	}
	p := &pusher{s: s, c: c, opts: opts, mountFrom: mountFrom}
	if err := p.pushLayers(ctx, layers); err != nil {
		return PushResult{}, err
	}
	if err := p.pushBlob(ctx, ocispec.Descriptor{Digest: id, Size: int64(len(cfgRaw))}, "", false); err != nil {
		return PushResult{}, err
	}
	raw, desc, err := s.manifestFor(ctx, id, layers, cfgRaw, manifests)
	if err != nil {
		return PushResult{}, err
	}
	if err := p.putManifest(ctx, ref.Tag(), raw, desc.MediaType); err != nil {
		return PushResult{}, err
	}
	if err := s.recordPush(ctx, ref, id, raw, desc); err != nil {
		return PushResult{}, err
	}
	res := PushResult{Tag: ref.Tag(), Digest: desc.Digest, Size: len(raw)}
	opts.Progress(ProgressEvent{Status: fmt.Sprintf("%s: digest: %s size: %d", res.Tag, res.Digest, res.Size)})
	opts.Progress(ProgressEvent{Detail: true, Aux: map[string]any{"Tag": res.Tag, "Digest": res.Digest.String(), "Size": res.Size}})
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pushableImage returns the image's layers with compressed blobs
// (compressing, once, those stored uncompressed), its config and its
// known manifests.
func (s *Store) pushableImage(ctx context.Context, id digest.Digest) ([]pushLayer, []byte, []manifestRecord, error) {
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
	out := make([]pushLayer, len(layers))
	for i, l := range layers {
		out[i] = pushLayer{layerRecord: l, id: shortDigest(l.DiffID)}
	}
	return out, raw, manifests, nil
}

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
func (s *Store) manifestFor(ctx context.Context, id digest.Digest, layers []pushLayer, cfgRaw []byte, known []manifestRecord) ([]byte, ocispec.Descriptor, error) {
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

// recordPush stores the pushed manifest and adds the repository digest.
func (s *Store) recordPush(ctx context.Context, ref reference.Named, id digest.Digest, raw []byte, desc ocispec.Descriptor) error {
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

// pusher is one tag's push.
type pusher struct {
	s         *Store
	c         *client
	opts      PushOptions
	mountFrom []string
}

// pushLayers uploads the layers, top first as docker lists them, at most
// Uploads at a time.
func (p *pusher) pushLayers(ctx context.Context, layers []pushLayer) error {
	order := make([]pushLayer, 0, len(layers))
	seen := map[digest.Digest]bool{}
	for i := len(layers) - 1; i >= 0; i-- {
		if !seen[layers[i].Blob] {
			seen[layers[i].Blob] = true
			order = append(order, layers[i])
		}
	}
	for _, l := range order {
		p.opts.Progress(ProgressEvent{ID: l.id, Status: "Preparing", Detail: true})
	}
	for i, l := range order {
		if i >= p.opts.Uploads {
			p.opts.Progress(ProgressEvent{ID: l.id, Status: "Waiting", Detail: true})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, p.opts.Uploads)
	var wg sync.WaitGroup
	var failed firstError
	for _, l := range order {
		wg.Add(1)
		go func(l pushLayer) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			desc := ocispec.Descriptor{Digest: l.Blob, Size: l.BlobSize}
			if err := p.pushBlob(ctx, desc, l.id, true); err != nil {
				if failed.set(err) {
					cancel()
				}
			}
		}(l)
	}
	wg.Wait()
	if err := failed.get(); err != nil {
		return err
	}
	return ctx.Err()
}

// pushBlob uploads a blob unless the registry has it (or can mount it).
// With report, it says so in docker's layer statuses under id.
func (p *pusher) pushBlob(ctx context.Context, desc ocispec.Descriptor, id string, report bool) error {
	status := func(st string, detail bool, cur, total int64) {
		if report {
			p.opts.Progress(ProgressEvent{ID: id, Status: st, Detail: detail, Current: cur, Total: total})
		}
	}
	exists, err := p.blobExists(ctx, desc.Digest)
	if err != nil {
		return err
	}
	if exists {
		status("Layer already exists", true, 0, 0)
		return nil
	}
	location := ""
	for _, from := range p.mountFrom {
		loc, mounted, err := p.startUpload(ctx, desc.Digest, from)
		if err != nil {
			return err
		}
		if mounted {
			status("Mounted from "+from, true, 0, 0)
			return nil
		}
		location = loc
		break // the registry opened an upload instead: use it
	}
	if location == "" {
		if location, _, err = p.startUpload(ctx, "", ""); err != nil {
			return err
		}
	}
	f, err := p.s.content.Open(ctx, desc.Digest)
	if err != nil {
		return err
	}
	defer f.Close()
	var t throttle
	body := &progressReader{r: f, f: func(n int64, final bool) {
		if t.ok(final) {
			status("Pushing", true, n, desc.Size)
		}
	}}
	status("Pushing", true, 0, desc.Size)
	u, err := url.Parse(location)
	if err != nil {
		return fmt.Errorf("invalid upload location %q: %w", location, err)
	}
	q := u.Query()
	q.Set("digest", desc.Digest.String())
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), io.NopCloser(body))
	if err != nil {
		return err
	}
	req.ContentLength = desc.Size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.GetBody = func() (io.ReadCloser, error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		body.n = 0
		return io.NopCloser(body), nil
	}
	resp, err := p.c.do(req, http.StatusCreated)
	if err != nil {
		return err
	}
	resp.Body.Close()
	body.done()
	status("Pushed", true, 0, 0)
	return nil
}

// blobExists asks the registry whether it has a blob (HEAD).
func (p *pusher) blobExists(ctx context.Context, d digest.Digest) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, p.c.url("blobs", d.String()), nil)
	if err != nil {
		return false, err
	}
	resp, err := p.c.do(req, http.StatusOK, http.StatusNotFound)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// startUpload opens an upload session, or mounts mount from the
// repository from. It returns the session's location or mounted.
func (p *pusher) startUpload(ctx context.Context, mount digest.Digest, from string) (string, bool, error) {
	u := p.c.r.Endpoint.URL("/v2/" + p.c.repo.RepositoryStr() + "/blobs/uploads/")
	if mount != "" {
		u += "?" + url.Values{"mount": {mount.String()}, "from": {from}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return "", false, err
	}
	resp, err := p.c.do(req, http.StatusCreated, http.StatusAccepted)
	if err != nil {
		return "", false, err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		return "", true, nil
	}
	loc, err := resp.Location()
	if err != nil {
		return "", false, fmt.Errorf("upload session without a location: %w", err)
	}
	return loc.String(), false, nil
}

// putManifest uploads the manifest under tag.
func (p *pusher) putManifest(ctx context.Context, tag string, raw []byte, mediaType string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.c.url("manifests", tag), bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mediaType)
	resp, err := p.c.do(req, http.StatusCreated, http.StatusOK, http.StatusAccepted)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}
