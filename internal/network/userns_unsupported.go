//go:build !linux

package network

import (
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CreateUserNetNS is only available on Linux.
func CreateUserNetNS(userPath, netPath string, uids, gids []specs.LinuxIDMapping) error {
	return errdefs.ErrNotImplemented
}
