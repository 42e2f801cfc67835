package build

import (
	"context"
	"log/slog"
	"sync"
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

	classic classicBuilds // classic POST /build: running builds by buildid (classic.go)
}

// New returns a builder that starts BuildKit on first use.
func New(cfg Config) *Builder {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Builder{cfg: cfg, log: cfg.Logger}
}
