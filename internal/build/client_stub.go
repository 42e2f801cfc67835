package build

import (
	"context"

	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/client"
)

// Client is bkcore's in-process BuildKit client; this stub stands in for it
// until bkcore's engine is merged (then this file goes).
func (b *Builder) Client(ctx context.Context) (*client.Client, error) {
	return nil, errdefs.ErrNotImplemented
}
