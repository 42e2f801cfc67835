//go:build linux

package snapshot

import (
	"io/fs"
	"syscall"
)

// inode returns the inode number and link count of fi.
func inode(fi fs.FileInfo) (uint64, uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino, uint64(st.Nlink)
	}
	return 0, 1
}
