package daemon

import (
	"os"

	"golang.org/x/sys/unix"
)

// openFDs is how many file descriptors berthd holds open (info's NFd).
func openFDs() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(fds) - 1 // ReadDir's own
}

// memTotal is the host's total memory in bytes (0 when unknown).
func memTotal() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
