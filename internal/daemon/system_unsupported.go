//go:build !linux

package daemon

// memTotal is unknown off Linux.
func memTotal() int64 { return 0 }

// openFDs is unknown off Linux.
func openFDs() int { return -1 }
