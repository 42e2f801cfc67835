package logfile

import (
	"io/fs"
	"syscall"
)

func idOf(st fs.FileInfo) fileID {
	id := fileID{mtime: st.ModTime().UnixNano()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		id.ino = sys.Ino
	}
	return id
}
