package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/build"
	"github.com/berth-project/berth/internal/daemon"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/registry"
)

// newBuilder describes the embedded BuildKit; it starts on the first build.
func newBuilder(cfg *config, runtimePath string, images daemon.Images, sandboxes build.Sandboxes, logger *slog.Logger) (*build.Builder, error) {
	hosts, err := registry.NewHosts(cfg.InsecureRegistries, cfg.CertsDir)
	if err != nil {
		return nil, err
	}
	bc := build.Config{
		Root:       filepath.Join(cfg.DataRoot, "buildkit"),
		ExecRoot:   filepath.Join(cfg.ExecRoot, "buildkit"),
		Runtime:    runtimePath,
		Sandboxes:  sandboxes,
		Registries: hosts,
		Logger:     logger,
	}
	if store, ok := images.(build.ImageStore); ok {
		bc.Images = store
	}
	return build.New(bc), nil
}

// berth's image store is the builder's.
var _ build.ImageStore = (*image.Store)(nil)

// lateSandboxes gives the builder the daemon's build sandboxes once the
// daemon exists (it is built after its parts, the builder among them).
type lateSandboxes struct {
	d atomic.Pointer[daemon.Daemon]
}

func (l *lateSandboxes) set(d *daemon.Daemon) { l.d.Store(d) }

// NewSandbox implements build.Sandboxes.
func (l *lateSandboxes) NewSandbox(ctx context.Context, id, hostname string) (string, func() error, error) {
	d := l.d.Load()
	sb, ok := any(d).(build.Sandboxes)
	if d == nil || !ok {
		return "", nil, errdefs.ErrUnavailable.WithMessage("build sandboxes are not available")
	}
	return sb.NewSandbox(ctx, id, hostname)
}
