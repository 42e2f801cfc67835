// Package pagetrim drops from a process's resident set the pages of its own
// binary that start-up touched (berthd after its start, an idle berth-shim).
package pagetrim

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ReleaseBinary drops from the process's resident set the pages of its own
// binary that it mapped so far. Package initialisation (berthd: BuildKit,
// gRPC and protobuf registrations among them; a shim: its flags, JSON and
// the runtime's invocation) reads code and read-only data all over the
// binary, and the kernel maps each fault's neighbours too; for an idle
// process that is most of its resident set, yet little of it runs again
// until the next request. The binary's read-only mappings are
// unmapped page by page (MADV_DONTNEED): the pages stay in the page cache
// and come back on the next access. Writable mappings are left alone.
func ReleaseBinary() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	ranges := cleanFileRanges(f, exe)
	f.Close()
	for _, r := range ranges {
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED)
	}
}

// cleanFileRanges reads smaps and returns exe's read-only mappings that
// hold no anonymous pages, so that dropping their pages loses nothing: a
// read-only mapping was written to before it was made read-only when it
// holds anonymous (copied-on-write) pages, as a position-independent
// binary's relocated data (RELRO) does, and those pages would come back
// from the file unrelocated.
func cleanFileRanges(smaps io.Reader, exe string) [][2]uintptr {
	var ranges [][2]uintptr
	inExe := false // the last range is the mapping being read
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if key, ok := strings.CutSuffix(fields[0], ":"); ok {
			if key == "Anonymous" && inExe && len(fields) > 1 && fields[1] != "0" {
				inExe = false
				ranges = ranges[:len(ranges)-1]
			}
			continue
		}
		// a mapping's first line: range, perms, offset, dev, inode, path
		inExe = false
		if len(fields) < 6 || strings.Join(fields[5:], " ") != exe || strings.Contains(fields[1], "w") {
			continue
		}
		from, to, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(from, 16, 64)
		end, err2 := strconv.ParseUint(to, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ranges = append(ranges, [2]uintptr{uintptr(start), uintptr(end)})
		inExe = true
	}
	return ranges
}
