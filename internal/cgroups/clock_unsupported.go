//go:build !linux

package cgroups

// sinceBoot is unknown off Linux.
func sinceBoot() (uint64, bool) { return 0, false }
