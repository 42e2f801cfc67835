//go:build !linux

package shim

// withSocketPath calls fn with path: only Linux has the long-path fallback.
func withSocketPath(path string, fn func(name string) error) error { return fn(path) }
