package pagetrim

import (
	"reflect"
	"strings"
	"testing"
)

// A position-independent berthd's smaps: text, read-only data, RELRO
// (read-only, but written by the loader's relocations: anonymous pages),
// data, and a library.
const pieSmaps = `555b77e00000-555b78000000 r--p 00000000 fe:00 42                         /usr/bin/berthd
Size:               2048 kB
Anonymous:             0 kB
VmFlags: rd mr mw me dw sd
555b78000000-555b79000000 r-xp 00200000 fe:00 42                         /usr/bin/berthd
Size:              16384 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me dw sd
555b79000000-555b79400000 r--p 01200000 fe:00 42                         /usr/bin/berthd
Size:               4096 kB
Anonymous:          1520 kB
VmFlags: rd mr mw me dw ac sd
555b79400000-555b79500000 rw-p 01600000 fe:00 42                         /usr/bin/berthd
Size:               1024 kB
Anonymous:           184 kB
VmFlags: rd wr mr mw me dw ac sd
7f0000000000-7f0000100000 r--p 00000000 fe:00 7                          /usr/lib/libc.so.6
Size:               1024 kB
Anonymous:             0 kB
VmFlags: rd mr mw me sd
`

// TestCleanFileRanges: only berthd's read-only mappings that were never
// written are released; dropping the relocated RELRO pages crashed a PIE
// berthd at start-up (SIGSEGV in ReleaseBinary).
func TestCleanFileRanges(t *testing.T) {
	got := cleanFileRanges(strings.NewReader(pieSmaps), "/usr/bin/berthd")
	want := [][2]uintptr{{0x555b77e00000, 0x555b78000000}, {0x555b78000000, 0x555b79000000}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ranges = %x, want %x", got, want)
	}
}
