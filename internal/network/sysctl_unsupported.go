//go:build !linux

package network

import "github.com/containerd/errdefs"

// SetSysctls is only available on Linux.
func SetSysctls(path string, sysctls map[string]string) error { return errdefs.ErrNotImplemented }
