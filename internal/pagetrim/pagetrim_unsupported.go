//go:build !linux

package pagetrim

// ReleaseBinary is a Linux optimisation.
func ReleaseBinary() {}
