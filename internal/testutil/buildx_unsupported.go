//go:build !linux

package testutil

// lockFile is Linux-only; elsewhere buildx is not built for the tests.
func lockFile(string) (func(), error) { return nil, errNoLock }
