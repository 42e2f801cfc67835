//go:build !linux

package testutil

// reap is Linux-only: elsewhere berthd runs no containers to leave behind.
func (d *Daemon) reap() []error { return nil }

// ShimPids is Linux-only; elsewhere it finds none.
func ShimPids(execRoot string) []int { return nil }

// UnmountUnder is Linux-only; elsewhere there is nothing to unmount.
func UnmountUnder(dir string) error { return nil }

// MountsUnder is Linux-only; elsewhere it finds none.
func MountsUnder(dir string) []string { return nil }
