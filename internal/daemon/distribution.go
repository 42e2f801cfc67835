package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/moby/moby/api/types/events"
	"io"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/distribution"
)

// Distributor moves images between the image store and registries
// (*distribution.Service).
type Distributor interface {
	Pull(ctx context.Context, ref reference.Named, opts distribution.PullOptions) (*distribution.PullResult, error)
	Push(ctx context.Context, repo, tag string, opts distribution.PushOptions) ([]distribution.PushResult, error)
	Login(ctx context.Context, auth registry.AuthConfig) (registry.AuthResponse, error)
	Inspect(ctx context.Context, ref string, auth registry.AuthConfig) (ocispec.Descriptor, []ocispec.Platform, error)
}

// progressWriter turns image progress events into docker JSON messages.
// Writes are serialised; after a failed write (the client left) the rest
// are dropped, and the request's context ends the work.
type progressWriter struct {
	mu  sync.Mutex
	out io.Writer
	err error
}

func (p *progressWriter) event(ev distribution.ProgressEvent) {
	m := jsonstream.Message{ID: ev.ID, Status: ev.Status}
	if ev.Detail {
		m.Progress = &jsonstream.Progress{Current: ev.Current, Total: ev.Total}
	}
	if ev.Aux != nil {
		raw, err := json.Marshal(ev.Aux)
		if err != nil {
			return
		}
		aux := json.RawMessage(raw)
		m.Aux = &aux
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = writeJSONMessage(p.out, m)
	}
}

// ImagePull fetches an image from its registry.
func (d *Daemon) ImagePull(ctx context.Context, opts backend.ImagePullOptions, out io.Writer) error {
	platform, err := parsePlatform(opts.Platform)
	if err != nil {
		return err
	}
	pw := &progressWriter{out: out}
	if _, err := d.dist.Pull(ctx, opts.Image, distribution.PullOptions{Auth: opts.Auth, Platform: platform, Progress: pw.event}); err != nil {
		return err
	}
	full, name := familiarRef(opts.Image.String())
	d.logImageEvent(ctx, full, name, events.ActionPull)
	return nil
}

// ImagePush sends an image, or every tag of a repository, to its registry.
func (d *Daemon) ImagePush(ctx context.Context, opts backend.ImagePushOptions, out io.Writer) error {
	pw := &progressWriter{out: out}
	pushed, err := d.dist.Push(ctx, opts.Name, opts.Tag, distribution.PushOptions{Auth: opts.Auth, Progress: pw.event})
	for _, p := range pushed {
		full, name := familiarRef(opts.Name + ":" + p.Tag)
		d.logImageEvent(ctx, full, name, events.ActionPush)
	}
	return err
}

// RegistryLogin checks credentials against their registry, as dockerd's
// POST /auth does.
func (d *Daemon) RegistryLogin(ctx context.Context, auth registry.AuthConfig) (registry.AuthResponse, error) {
	return d.dist.Login(ctx, auth)
}

// DistributionInspect asks the registry for an image's descriptor and
// platforms.
func (d *Daemon) DistributionInspect(ctx context.Context, name string, auth registry.AuthConfig) (*registry.DistributionInspect, error) {
	desc, platforms, err := d.dist.Inspect(ctx, name, auth)
	if err != nil {
		return nil, err
	}
	return &registry.DistributionInspect{Descriptor: desc, Platforms: platforms}, nil
}

// ImagePrune removes unused images.
func (d *Daemon) ImagePrune(ctx context.Context, filters backend.Filters) (*imagetypes.PruneReport, error) {
	idOf := d.imageIDs(ctx)
	report, err := d.images.Prune(ctx, filters, d.imageUser)
	if err != nil {
		return nil, err
	}
	d.logImageDeletes(ctx, report.ImagesDeleted, idOf)
	d.logPruneEvent(events.ImageEventType, report.SpaceReclaimed)
	return report, nil
}

// parsePlatform reads "os[/arch[/variant]]"; nil for "".
func parsePlatform(s string) (*ocispec.Platform, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) > 3 || parts[0] == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("%q: unknown operating system or architecture: invalid argument", s))
	}
	p := &ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = normalizeArch(parts[1])
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p, nil
}

// normalizeArch maps common aliases to GOARCH names.
func normalizeArch(a string) string {
	switch a {
	case "x86_64", "x86-64":
		return "amd64"
	case "aarch64":
		return "arm64"
	case "i386", "i686":
		return "386"
	}
	return a
}
