package logfile

import (
	"fmt"
	"io"
	"os"
)

const tailBlock = 32 * 1024

// tailOffset returns the offset of the first of the last n complete entries
// of f, reading backwards from the end so a long log costs only what is shown.
func tailOffset(f *os.File, n int) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("read container log: %w", err)
	}
	end := st.Size()
	if n == 0 {
		return end, nil
	}
	// The entry ending at the n+1-th newline from the end is the first one
	// not shown; the newline of the last entry counts as the first.
	need := n + 1
	buf := make([]byte, tailBlock)
	for pos := end; pos > 0; {
		size := min(int64(len(buf)), pos)
		pos -= size
		b := buf[:size]
		if _, err := f.ReadAt(b, pos); err != nil && err != io.EOF {
			return 0, fmt.Errorf("read container log: %w", err)
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] == '\n' {
				if need--; need == 0 {
					return pos + int64(i) + 1, nil
				}
			}
		}
	}
	return 0, nil
}
