package shim

import (
	"strconv"
	"strings"
)

// readOnlyImageMappings returns the [start, end) address ranges of the
// private, read-only (r-xp or r--p) mappings of the file exe in maps, the
// text of /proc/self/maps. Writable mappings are never returned.
func readOnlyImageMappings(maps, exe string) [][2]uint64 {
	var out [][2]uint64
	for line := range strings.Lines(maps) {
		// address perms offset dev inode pathname
		f := strings.Fields(line)
		if len(f) < 6 || (f[1] != "r-xp" && f[1] != "r--p") {
			continue
		}
		if strings.Join(f[5:], " ") != exe {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		out = append(out, [2]uint64{start, end})
	}
	return out
}
