//go:build !linux

package logfile

import "io/fs"

// idOf has only the modification time where inodes are not known.
func idOf(st fs.FileInfo) fileID {
	return fileID{mtime: st.ModTime().UnixNano()}
}
