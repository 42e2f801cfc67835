//go:build !linux

package testutil

// lockFile is Linux-only; elsewhere the cached tools are not built for the tests.
func lockFile(string) (func(), error) { return nil, errNoLock }
