//go:build !linux

package shim

import (
	"context"
	"fmt"
	"os"

	"github.com/containerd/errdefs"
)

// Start launches a shim; shims need Linux.
func Start(ctx context.Context, shimBinary string, cfg Config) (*Client, error) {
	return nil, fmt.Errorf("shim: %w", errdefs.ErrNotImplemented)
}

// Main is the berth-shim program; it needs Linux.
func Main() {
	fmt.Fprintln(os.Stderr, "berth-shim: not supported on this platform")
	os.Exit(1)
}
