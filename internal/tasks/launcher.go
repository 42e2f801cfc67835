package tasks

import (
	"context"

	"github.com/berth-project/berth/internal/shim"
)

// ShimLauncher launches berth-shim processes.
type ShimLauncher struct {
	Binary string // berth-shim's path
}

// Start launches a shim for cfg.
func (l ShimLauncher) Start(ctx context.Context, cfg shim.Config) (Shim, error) {
	c, err := shim.Start(ctx, l.Binary, cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Connect re-adopts the shim serving stateDir.
func (l ShimLauncher) Connect(ctx context.Context, stateDir string) (Shim, error) {
	c, err := shim.Connect(ctx, stateDir)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ExitStatus reads the exit status a shim recorded in stateDir.
func (ShimLauncher) ExitStatus(stateDir string) (shim.ExitStatus, bool, error) {
	return shim.ReadExitStatus(stateDir)
}
