package daemon

import "golang.org/x/sys/unix"

// memTotal is the host's total memory in bytes (0 when unknown).
func memTotal() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
