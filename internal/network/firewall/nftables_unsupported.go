//go:build !linux

package firewall

import (
	"context"

	"github.com/containerd/errdefs"
)

// NFTables is berth's nftables table; not available on this platform.
type NFTables struct{}

// NewNFTables returns ErrNotImplemented on this platform.
func NewNFTables(table string) (*NFTables, error) {
	return nil, errdefs.ErrNotImplemented.WithMessage("nftables is only available on Linux")
}

// Apply returns ErrNotImplemented.
func (*NFTables) Apply(context.Context, Ruleset) error { return errdefs.ErrNotImplemented }

// Delete returns ErrNotImplemented.
func (*NFTables) Delete(context.Context) error { return errdefs.ErrNotImplemented }
