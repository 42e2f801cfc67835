package distribution

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/image"
	reg "github.com/berth-project/berth/internal/registry"
)

// PushOptions configure Push.
type PushOptions struct {
	Auth     registry.AuthConfig
	Progress Progress // may be nil
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
// with its original manifest, so its digest does not change.
func (s *Service) Push(ctx context.Context, repo, tag string, opts PushOptions) ([]PushResult, error) {
	if opts.Progress == nil {
		opts.Progress = func(ProgressEvent) {}
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
	targets := s.store.PushTargets(named)
	opts.Progress(ProgressEvent{Status: "The push refers to repository [" + named.Name() + "]"})
	if len(targets) == 0 {
		if _, ok := named.(reference.Tagged); ok {
			return nil, errdefs.ErrNotFound.WithMessage("tag does not exist: " + reference.FamiliarString(named))
		}
		return nil, errdefs.ErrNotFound.WithMessage("An image does not exist locally with the tag: " + reference.FamiliarName(named))
	}
	anonymous := !reg.HasCredentials(opts.Auth)
	var results []PushResult
	for _, t := range targets {
		res, err := s.pushOne(ctx, t, opts)
		if err != nil {
			err = reg.Describe(err, anonymous)
			s.log.Debug("push failed", "ref", t.Ref.String(), "error", err)
			return results, err
		}
		s.log.Debug("pushed", "ref", t.Ref.String(), "digest", res.Digest)
		results = append(results, res)
	}
	return results, nil
}

// pusher is one tag's push.
type pusher struct {
	s         *Service
	opts      PushOptions
	repo      name.Repository
	mountFrom name.Repository // where blobs may be mounted from, when canMount
	canMount  bool
	img       *image.Pushable
	remote    *remote.Pusher
	heads     *remote.Puller
}

// pushOne pushes one tag.
func (s *Service) pushOne(ctx context.Context, t image.PushTarget, opts PushOptions) (PushResult, error) {
	img, err := s.store.Pushable(ctx, t.ID)
	if err != nil {
		return PushResult{}, err
	}
	defer img.Release()
	repo, err := repoName(t.Ref)
	if err != nil {
		return PushResult{}, err
	}
	p := &pusher{s: s, opts: opts, repo: repo, img: img}
	// Mount candidate: the first repository of the same registry known to
	// hold the image's blobs, as docker tries.
	scopes := []string{repo.Scope(transport.PushScope)}
	for _, r := range img.Repos {
		src, err := reference.ParseNormalizedNamed(r)
		if err != nil || reference.Domain(src) != reference.Domain(t.Ref) || src.Name() == t.Ref.Name() {
			continue
		}
		if from, err := repoName(src); err == nil {
			p.mountFrom, p.canMount = from, true
			scopes = append(scopes, from.Scope(transport.PullScope))
			break
		}
	}
	sess, err := s.connect(ctx, repo.Registry, opts.Auth, scopes)
	if err != nil {
		return PushResult{}, err
	}
	if p.remote, err = remote.NewPusher(remote.WithTransport(sess.rt)); err != nil {
		return PushResult{}, err
	}
	if p.heads, err = remote.NewPuller(remote.WithTransport(sess.rt)); err != nil {
		return PushResult{}, err
	}
	if err := p.pushLayers(ctx); err != nil {
		return PushResult{}, err
	}
	cfg := &blob{digest: img.ID, size: int64(len(img.Config)), mediaType: types.DockerConfigJSON,
		open: func() (io.ReadCloser, error) { return s.store.OpenBlob(ctx, img.ID) }}
	if err := p.pushBlob(ctx, cfg, "", false); err != nil {
		return PushResult{}, err
	}
	m := rawManifest{raw: img.Manifest, mediaType: types.MediaType(img.ManifestDesc.MediaType)}
	if err := p.remote.Put(ctx, repo.Tag(t.Ref.Tag()), m); err != nil {
		return PushResult{}, err
	}
	if err := s.store.RecordPush(ctx, t.Ref, t.ID, img.Manifest, img.ManifestDesc); err != nil {
		return PushResult{}, err
	}
	res := PushResult{Tag: t.Ref.Tag(), Digest: img.ManifestDesc.Digest, Size: len(img.Manifest)}
	opts.Progress(ProgressEvent{Status: fmt.Sprintf("%s: digest: %s size: %d", res.Tag, res.Digest, res.Size)})
	opts.Progress(ProgressEvent{Detail: true, Aux: map[string]any{"Tag": res.Tag, "Digest": res.Digest.String(), "Size": res.Size}})
	return res, nil
}

// pushLayers uploads the layers, top first as docker lists them, at most
// Uploads at a time.
func (p *pusher) pushLayers(ctx context.Context) error {
	layers := p.img.Layers
	var order []image.Layer
	seen := map[digest.Digest]bool{}
	for i := len(layers) - 1; i >= 0; i-- {
		if !seen[layers[i].Blob] {
			seen[layers[i].Blob] = true
			order = append(order, layers[i])
		}
	}
	uploads := p.s.opts.Uploads
	for _, l := range order {
		p.opts.Progress(ProgressEvent{ID: shortDigest(l.Snapshot.DiffID), Status: "Preparing", Detail: true})
	}
	for _, l := range order[min(uploads, len(order)):] {
		p.opts.Progress(ProgressEvent{ID: shortDigest(l.Snapshot.DiffID), Status: "Waiting", Detail: true})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, uploads)
	var wg sync.WaitGroup
	var failed firstError
	for _, l := range order {
		wg.Add(1)
		go func(l image.Layer) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			b := &blob{digest: l.Blob, size: l.BlobSize, mediaType: types.MediaType(l.MediaType),
				open: func() (io.ReadCloser, error) { return p.s.store.OpenBlob(ctx, l.Blob) }}
			if err := p.pushBlob(ctx, b, shortDigest(l.Snapshot.DiffID), true); err != nil {
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

// pushBlob uploads a blob unless the registry has it (or mounts it from
// another repository). With report, it says which in docker's layer
// statuses under id.
func (p *pusher) pushBlob(ctx context.Context, b *blob, id string, report bool) error {
	status := func(st string, cur, total int64) {
		if report {
			p.opts.Progress(ProgressEvent{ID: id, Status: st, Detail: true, Current: cur, Total: total})
		}
	}
	exists, err := p.blobExists(ctx, b.digest)
	if err != nil {
		return err
	}
	if exists {
		status("Layer already exists", 0, 0)
		return nil
	}
	var t throttle
	b.progress = func(n int64, final bool) {
		if t.ok(final) {
			status("Pushing", n, b.size)
		}
	}
	l, err := partial.CompressedToLayer(b)
	if err != nil {
		return err
	}
	if p.canMount {
		// go-containerregistry asks the registry to mount a
		// MountableLayer's blob from its repository, and uploads it
		// when the registry declines.
		l = &remote.MountableLayer{Layer: l, Reference: p.mountFrom.Digest(b.digest.String())}
	}
	if err := p.remote.Upload(ctx, p.repo, l); err != nil {
		return err
	}
	if b.opened.Load() {
		status("Pushed", 0, 0)
	} else {
		status("Mounted from "+p.mountFrom.RepositoryStr(), 0, 0)
	}
	return nil
}

// blobExists asks the registry whether the repository has a blob (a HEAD
// request, through go-containerregistry's remote layer).
func (p *pusher) blobExists(ctx context.Context, d digest.Digest) (bool, error) {
	l, err := p.heads.Layer(ctx, p.repo.Digest(d.String()))
	if err != nil {
		return false, err
	}
	if _, err := l.Size(); err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// blob is a blob of the content store as go-containerregistry uploads it
// (a partial.CompressedLayer). It notes whether its data was read, which
// tells an upload from a mount.
type blob struct {
	digest    digest.Digest
	size      int64
	mediaType types.MediaType
	open      func() (io.ReadCloser, error)
	progress  func(n int64, final bool) // may be nil
	opened    atomic.Bool
}

func (b *blob) Digest() (v1.Hash, error)            { return v1.NewHash(b.digest.String()) }
func (b *blob) Size() (int64, error)                { return b.size, nil }
func (b *blob) MediaType() (types.MediaType, error) { return b.mediaType, nil }

// Compressed opens the blob for an upload.
func (b *blob) Compressed() (io.ReadCloser, error) {
	b.opened.Store(true)
	rc, err := b.open()
	if err != nil || b.progress == nil {
		return rc, err
	}
	pr := &progressReader{r: rc, f: b.progress}
	return &progressReadCloser{progressReader: pr, c: rc}, nil
}

// progressReadCloser reports the last progress when the upload closes it.
type progressReadCloser struct {
	*progressReader
	c io.Closer
}

func (r *progressReadCloser) Close() error {
	r.done()
	return r.c.Close()
}

// rawManifest is a manifest sent byte for byte (remote.Taggable).
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }
