//go:build !linux

package snapshot

import (
	"fmt"

	"github.com/containerd/errdefs"
)

// NewOverlay is only available on Linux.
func NewOverlay(root string, _ ...Option) (Snapshotter, error) {
	return nil, fmt.Errorf("overlay snapshotter: %w", errdefs.ErrNotImplemented)
}
