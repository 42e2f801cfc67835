package shim

import (
	"reflect"
	"testing"
)

func TestReadOnlyImageMappings(t *testing.T) {
	maps := `00400000-00547000 r-xp 00000000 fe:00 10010741                           /x/bin/berth-shim
00547000-006d3000 r--p 00147000 fe:00 10010741                           /x/bin/berth-shim
006d3000-006e4000 rw-p 002d3000 fe:00 10010741                           /x/bin/berth-shim
006e4000-0071a000 rw-p 00000000 00:00 0 
00800000-00801000 r--p 00000000 fe:00 10010742                           /x/bin/other
00900000-00901000 r-xs 00000000 fe:00 10010741                           /x/bin/berth-shim
7efe54520000-7efe54700000 rw-p 00000000 00:00 0 
7ffc8d5f0000-7ffc8d5f2000 r-xp 00000000 00:00 0                          [vdso]
`
	got := readOnlyImageMappings(maps, "/x/bin/berth-shim")
	want := [][2]uint64{{0x400000, 0x547000}, {0x547000, 0x6d3000}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	// a replaced binary keeps its " (deleted)" name in both places
	got = readOnlyImageMappings("00400000-00547000 r-xp 00000000 fe:00 1 /x/s (deleted)\n", "/x/s (deleted)")
	if len(got) != 1 {
		t.Fatalf("deleted exe: got %x", got)
	}
}
