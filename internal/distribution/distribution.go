// Package distribution moves images between the local image store and
// registries, as docker pull, push and login do, over go-containerregistry's
// remote, transport, authn and name packages. How each registry host is
// reached (scheme, TLS, insecure registries) is internal/registry's decision;
// blobs, layers and image records are internal/image's, reached through the
// small Store interface below.
//
// A pull downloads up to three layers at a time into the content store and
// unpacks each one while it arrives, in layer order; every blob is checked
// against its digest and every layer against its diff ID, and the image
// becomes visible only once all are. What a failed pull had verified stays
// under a lease for the next pull. A push sends a pulled image's manifest
// byte for byte, so its digest is kept.
package distribution

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/api/types/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/content"
	"github.com/berth-project/berth/internal/image"
	reg "github.com/berth-project/berth/internal/registry"
	"github.com/berth-project/berth/internal/snapshot"
)

// Store is what distribution needs of the local image store
// (*image.Store).
type Store interface {
	BlobWriter(ctx context.Context) (*content.Writer, error)
	HasBlob(ctx context.Context, d digest.Digest) bool
	OpenBlob(ctx context.Context, d digest.Digest) (*os.File, error)
	BlobSize(ctx context.Context, d digest.Digest) (int64, error)
	Snapshot(ctx context.Context, chainID digest.Digest) (snapshot.Info, error)
	ApplyLayer(ctx context.Context, parent digest.Digest, tar io.Reader, diffID digest.Digest) (snapshot.Info, error)
	HasImage(id digest.Digest) bool
	Lease(blobs, chainIDs []digest.Digest) (*image.Lease, error)
	RecordPull(ctx context.Context, p image.Pulled) (digest.Digest, bool, error)
	PushTargets(named reference.Named) []image.PushTarget
	Pushable(ctx context.Context, id digest.Digest) (*image.Pushable, error)
	RecordPush(ctx context.Context, ref reference.Named, id digest.Digest, raw []byte, desc ocispec.Descriptor) error
}

var _ Store = (*image.Store)(nil)

// Options configure a Service.
type Options struct {
	// InsecureRegistries may be reached over plain HTTP or with unverified
	// certificates (CIDRs or host[:port]); loopback always may.
	InsecureRegistries []string
	// CertsDir holds per-registry CAs and client certificates
	// ("" for registry.DefaultCertsDir).
	CertsDir  string
	UserAgent string
	Logger    *slog.Logger // slog.Default when nil
	// Downloads bounds the layers a pull downloads at once (dockerd's
	// max-concurrent-downloads); 3 when zero.
	Downloads int
	// Uploads bounds the layers a push uploads at once (dockerd's
	// max-concurrent-uploads); 5 when zero.
	Uploads int
}

// Service pulls into and pushes from one image store.
type Service struct {
	store Store
	opts  Options
	log   *slog.Logger
}

// New returns the distribution service of store.
func New(store Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Downloads <= 0 {
		opts.Downloads = 3
	}
	if opts.Uploads <= 0 {
		opts.Uploads = 5
	}
	return &Service{store: store, opts: opts, log: opts.Logger}
}

// session is one operation's authenticated connection to a registry.
type session struct {
	ep *reg.Endpoint
	rt http.RoundTripper // authenticated for the operation's scopes
}

// connect settles how the registry is reached (endpoint) and
// authenticates for scopes (authenticate).
func (s *Service) connect(ctx context.Context, registryName name.Registry, auth registry.AuthConfig, scopes []string) (*session, error) {
	ep, err := s.endpoint(ctx, registryName)
	if err != nil {
		return nil, err
	}
	return s.authenticate(ctx, ep, registryName, auth, scopes)
}

// endpoint settles how the registry is reached: its endpoint pings it,
// over HTTPS, or HTTP for an insecure registry that does not speak TLS.
func (s *Service) endpoint(ctx context.Context, registryName name.Registry) (*reg.Endpoint, error) {
	hosts, err := reg.NewHosts(s.opts.InsecureRegistries, s.opts.CertsDir)
	if err != nil {
		return nil, err
	}
	ep, err := hosts.Endpoint(registryName.RegistryStr())
	if err != nil {
		return nil, err
	}
	if err := ep.Ping(ctx); err != nil {
		return nil, err
	}
	return ep, nil
}

// authenticate sets up go-containerregistry's transport for scopes: it
// reads the registry's challenge and, for a token registry, exchanges the
// credentials for a token. The transport is a transport.Wrapper, so
// go-containerregistry's remote neither pings nor wraps it again.
func (s *Service) authenticate(ctx context.Context, ep *reg.Endpoint, registryName name.Registry, auth registry.AuthConfig, scopes []string) (*session, error) {
	rt, err := transport.NewWithContext(ctx, registryName, reg.Authenticator(auth), transport.NewUserAgent(ep.Transport(), s.opts.UserAgent), scopes)
	if err != nil {
		return nil, reg.Describe(ep.FixError(err), !reg.HasCredentials(auth))
	}
	return &session{ep: ep, rt: rt}, nil
}

// repoName is go-containerregistry's name of a normalised reference's
// repository ("index.docker.io/library/busybox").
func repoName(named reference.Named) (name.Repository, error) {
	repo, err := name.NewRepository(reference.Domain(named) + "/" + reference.Path(named))
	if err != nil {
		return name.Repository{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return repo, nil
}

func invalidRef(err error) error {
	return errdefs.ErrInvalidArgument.WithMessage(err.Error())
}
