package main

import (
	"log/slog"
	"path/filepath"

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
