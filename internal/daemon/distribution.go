package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	imagetypes "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/image"
	reg "github.com/berth-project/berth/internal/registry"
)

// userAgent is what berthd tells registries.
const userAgent = "berth/" + Version

// remote returns how to reach the registry of named with auth.
func (d *Daemon) remote(named reference.Named, auth registry.AuthConfig) (image.Remote, error) {
	hosts, err := reg.NewHosts(d.cfg.InsecureRegistries, d.cfg.CertsDir)
	if err != nil {
		return image.Remote{}, err
	}
	ep, err := hosts.Endpoint(registryHost(reference.Domain(named)))
	if err != nil {
		return image.Remote{}, err
	}
	return image.Remote{Endpoint: ep, Auth: auth, UserAgent: userAgent}, nil
}

// registryHost is the host serving a reference domain's registry API.
func registryHost(domain string) string {
	if domain == "docker.io" || domain == "index.docker.io" {
		return reg.DefaultHost
	}
	return domain
}

// progressWriter turns image progress events into docker JSON messages.
// Writes are serialised; after a failed write (the client left) the rest
// are dropped, and the request's context ends the work.
type progressWriter struct {
	mu  sync.Mutex
	out io.Writer
	err error
}

func (p *progressWriter) event(ev image.ProgressEvent) {
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
	named, err := reference.ParseNormalizedNamed(opts.Image)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	platform, err := parsePlatform(opts.Platform)
	if err != nil {
		return err
	}
	r, err := d.remote(named, opts.Auth)
	if err != nil {
		return err
	}
	pw := &progressWriter{out: out}
	_, err = d.images.Pull(ctx, named.String(), image.PullOptions{Remote: r, Platform: platform, Progress: pw.event})
	return err
}

// ImagePush sends an image, or every tag of a repository, to its registry.
func (d *Daemon) ImagePush(ctx context.Context, opts backend.ImagePushOptions, out io.Writer) error {
	named, err := reference.ParseNormalizedNamed(opts.Name)
	if err != nil {
		return errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	r, err := d.remote(named, opts.Auth)
	if err != nil {
		return err
	}
	pw := &progressWriter{out: out}
	_, err = d.images.Push(ctx, opts.Name, opts.Tag, image.PushOptions{Remote: r, Progress: pw.event})
	return err
}

// RegistryLogin checks credentials against their registry, as dockerd's
// POST /auth does.
func (d *Daemon) RegistryLogin(ctx context.Context, auth registry.AuthConfig) (registry.AuthResponse, error) {
	host := loginHost(auth.ServerAddress)
	hosts, err := reg.NewHosts(d.cfg.InsecureRegistries, d.cfg.CertsDir)
	if err != nil {
		return registry.AuthResponse{}, err
	}
	ep, err := hosts.Endpoint(host)
	if err != nil {
		return registry.AuthResponse{}, err
	}
	if err := ep.Ping(ctx); err != nil {
		return registry.AuthResponse{}, err
	}
	registryName, err := name.NewRegistry(host)
	if err != nil {
		return registry.AuthResponse{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	rt, err := transport.NewWithContext(ctx, registryName, reg.Authenticator(auth), transport.NewUserAgent(ep.Transport(), userAgent), nil)
	if err != nil {
		return registry.AuthResponse{}, errdefs.ErrUnauthenticated.WithMessage(reg.Describe(ep.FixError(err), false).Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL("/v2/"), nil)
	if err != nil {
		return registry.AuthResponse{}, err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return registry.AuthResponse{}, ep.FixError(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return registry.AuthResponse{}, errdefs.ErrUnauthenticated.WithMessage(fmt.Sprintf("login attempt to %s failed with status: %d %s", ep.URL("/v2/"), resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	return registry.AuthResponse{Status: "Login Succeeded"}, nil
}

// loginHost is the registry host of a login's server address ("" and
// Docker Hub's index address mean Docker Hub).
func loginHost(server string) string {
	s := strings.TrimSpace(server)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "", "index.docker.io", "docker.io", "registry-1.docker.io":
		return reg.DefaultHost
	}
	return s
}

// DistributionInspect asks the registry for an image's descriptor and
// platforms.
func (d *Daemon) DistributionInspect(ctx context.Context, nameStr string, auth registry.AuthConfig) (*registry.DistributionInspect, error) {
	named, err := reference.ParseNormalizedNamed(nameStr)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	r, err := d.remote(named, auth)
	if err != nil {
		return nil, err
	}
	desc, platforms, err := image.DistributionInspect(ctx, named.String(), r)
	if err != nil {
		return nil, err
	}
	return &registry.DistributionInspect{Descriptor: desc, Platforms: platforms}, nil
}

// ImagePrune removes unused images.
func (d *Daemon) ImagePrune(ctx context.Context, filters backend.Filters) (*imagetypes.PruneReport, error) {
	return d.images.Prune(ctx, filters, d.imageUser)
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
