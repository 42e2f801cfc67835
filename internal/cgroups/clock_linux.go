package cgroups

import "golang.org/x/sys/unix"

// sinceBoot is the time since boot in nanoseconds (CLOCK_BOOTTIME).
func sinceBoot() (uint64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, false
	}
	return uint64(ts.Nano()), true
}
