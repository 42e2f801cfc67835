package logfile

import (
	"fmt"
	"io"
)

const tailBlock = 32 * 1024

// tailOffset returns the offset of the first of the last n complete entries
// of the first end bytes of r, and how many entries that is (fewer than n
// when r holds fewer), reading backwards from the end so a long log costs
// only what is shown.
func tailOffset(r io.ReaderAt, end int64, n int) (int64, int, error) {
	if n <= 0 {
		return end, 0, nil
	}
	// The entry ending at the n+1-th newline from the end is the first one
	// not shown; the newline of the last entry counts as the first.
	seen := 0
	buf := make([]byte, min(tailBlock, end))
	for pos := end; pos > 0; {
		size := min(int64(len(buf)), pos)
		pos -= size
		b := buf[:size]
		if _, err := r.ReadAt(b, pos); err != nil && err != io.EOF {
			return 0, 0, fmt.Errorf("read container log: %w", err)
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] == '\n' {
				if seen++; seen == n+1 {
					return pos + int64(i) + 1, n, nil
				}
			}
		}
	}
	return 0, seen, nil
}
