//go:build !linux

package network

import "github.com/containerd/errdefs"

// NewNetNS returns ErrNotImplemented on this platform.
func (m *Manager) NewNetNS(id string) (string, error) { return "", errdefs.ErrNotImplemented }

// CreateNetNS returns ErrNotImplemented on this platform.
func CreateNetNS(path string) error { return errdefs.ErrNotImplemented }

// RemoveNetNS returns ErrNotImplemented on this platform.
func RemoveNetNS(path string) error { return errdefs.ErrNotImplemented }

// InNetNS returns ErrNotImplemented on this platform.
func InNetNS(path string, fn func() error) error { return errdefs.ErrNotImplemented }

func isNetNS(path string) bool { return false }
