package build

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/berth-project/berth/internal/registry"
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
	// Images is berth's image store: built images land in it, and FROM
	// finds its images without a registry. Nil builds without either.
	Images ImageStore
	// Registries says how registry hosts are reached (insecure
	// registries, certs.d); nil uses docker's defaults.
	Registries *registry.Hosts
	// GC is the build cache's garbage collection (daemon.json's
	// builder.gc); its zero value is dockerd's default policy.
	GC GCConfig
	// Logger receives the engine's own messages; nil is slog's default.
	Logger *slog.Logger
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

	mu     sync.Mutex
	eng    *engine // nil until started
	closed bool
	mirror *mirror // local images as a registry, nil without Images

	classic classicBuilds // classic POST /build: running builds by buildid (classic.go)
}

// errClosed answers requests that come after Close.
var errClosed = errors.New("builder is shut down")

// New returns a builder that starts BuildKit on first use.
func New(cfg Config) *Builder {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Builder{cfg: cfg, log: cfg.Logger}
	if cfg.Images != nil {
		b.mirror = newMirror(cfg.Images)
	}
	return b
}

// running returns the started engine, starting it on first use. A failed
// start returns its error and the next call tries again.
func (b *Builder) running() (*engine, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	if b.eng != nil {
		return b.eng, nil
	}
	e, err := b.start()
	if err != nil {
		b.log.Error("build: start BuildKit", "error", err)
		return nil, err
	}
	b.eng = e
	return e, nil
}

// Close stops BuildKit if it was started. Builds still running fail.
func (b *Builder) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.eng == nil {
		return nil
	}
	err := b.eng.close()
	b.eng = nil
	return err
}
