package build

import (
	"context"
	"io"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/backend"
)

// Build runs a classic POST /build and writes docker's JSON messages to out.
func (b *Builder) Build(ctx context.Context, opts backend.BuildOptions, body io.Reader, out io.Writer) error {
	return errdefs.ErrNotImplemented
}
