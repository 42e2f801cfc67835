package build

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/containerd/errdefs"
	buildtypes "github.com/moby/moby/api/types/build"

	"github.com/berth-project/berth/internal/backend"
)

// Config says where the builder keeps its state and what of the engine it
// builds on.
type Config struct {
	// Root holds BuildKit's state (<data-root>/buildkit): its cache,
	// metadata and history survive restarts.
	Root string
	// ExecRoot holds the runtime state of RUN steps (<exec-root>/buildkit).
	ExecRoot string
	// Runtime is the OCI runtime binary RUN steps run under (runc).
	Runtime string
	// Sandboxes give RUN steps their network; nil gives them none.
	Sandboxes Sandboxes
	Logger    *slog.Logger
}

// Sandboxes give build steps their network, as containers have theirs
// (the daemon implements it over internal/network).
type Sandboxes interface {
	// NewSandbox creates a network namespace for one build step, connected
	// as a container on the default bridge is (NAT, the host's resolver),
	// and returns its path and how to release it.
	NewSandbox(ctx context.Context, id, hostname string) (nsPath string, release func() error, err error)
}

// Builder is the engine's embedded BuildKit. It starts on first use, so an
// engine that never builds pays nothing for it.
type Builder struct {
	cfg Config
	log *slog.Logger

	mu sync.Mutex
}

// New returns a builder that starts BuildKit on first use.
func New(cfg Config) *Builder {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Builder{cfg: cfg, log: cfg.Logger}
}

// ServeBuildKit serves BuildKit's gRPC control API over conn, an h2c
// connection hijacked from POST /grpc, until it closes.
func (b *Builder) ServeBuildKit(ctx context.Context, conn net.Conn) error {
	return errdefs.ErrNotImplemented
}

// ServeBuildSession serves a client's session over conn, hijacked from
// POST /session.
func (b *Builder) ServeBuildSession(ctx context.Context, conn net.Conn, header map[string][]string) error {
	return errdefs.ErrNotImplemented
}

// Build runs a classic POST /build and writes docker's JSON messages to out.
func (b *Builder) Build(ctx context.Context, opts backend.BuildOptions, body io.Reader, out io.Writer) error {
	return errdefs.ErrNotImplemented
}

// BuildCancel cancels the running build with the client-chosen id.
func (b *Builder) BuildCancel(ctx context.Context, id string) error {
	return errdefs.ErrNotImplemented
}

// BuildCachePrune removes build cache records.
func (b *Builder) BuildCachePrune(ctx context.Context, opts backend.BuildCachePruneOptions) (*buildtypes.CachePruneReport, error) {
	return nil, errdefs.ErrNotImplemented
}

// BuildCacheUsage lists the build cache's records.
func (b *Builder) BuildCacheUsage(ctx context.Context) ([]buildtypes.CacheRecord, error) {
	return nil, errdefs.ErrNotImplemented
}
