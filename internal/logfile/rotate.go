package logfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// rotatedName is the name of the n-th rotated file (1 is the newest).
func rotatedName(path string, n int, gz bool) string {
	name := path + "." + strconv.Itoa(n)
	if gz {
		name += ".gz"
	}
	return name
}

// rotate starts a new current file; w.mu is held. Renames only: the
// compression of the file rotated out is left to the compressor goroutine,
// so the container never waits for it.
func (w *Writer) rotate() error {
	if err := w.f.Close(); err != nil && !errors.Is(err, fs.ErrClosed) {
		return fmt.Errorf("rotate container log: %w", err)
	}
	if w.o.MaxFiles < 2 {
		// Unlinked rather than truncated: a reader may be in the middle of it.
		if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate container log: %w", err)
		}
	} else {
		last := w.o.MaxFiles - 1
		for _, gz := range []bool{false, true} {
			if err := os.Remove(rotatedName(w.path, last, gz)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("rotate container log: %w", err)
			}
		}
		for n := last; n > 1; n-- {
			for _, gz := range []bool{false, true} {
				if err := os.Rename(rotatedName(w.path, n-1, gz), rotatedName(w.path, n, gz)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("rotate container log: %w", err)
				}
			}
		}
		if err := os.Rename(w.path, rotatedName(w.path, 1, false)); err != nil {
			return fmt.Errorf("rotate container log: %w", err)
		}
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("rotate container log: %w", err)
	}
	w.f, w.size = f, 0
	w.gen++
	if w.o.Compress && w.o.MaxFiles >= 2 {
		if w.kick == nil {
			w.kick, w.packed = make(chan struct{}, 1), make(chan struct{})
			go w.compressor()
		}
		select {
		case w.kick <- struct{}{}:
		default: // already due to run
		}
	}
	return nil
}

// compressor gzips rotated files until the writer is closed.
func (w *Writer) compressor() {
	defer close(w.packed)
	for range w.kick {
		for w.compressOne() {
		}
		// The compressor's ~2 MB are garbage now; the shim runs once per
		// container, so give them back rather than keep them resident.
		debug.FreeOSMemory()
	}
}

// compressOne compresses the oldest uncompressed rotated file; false when
// there is none (or it failed: the file then stays uncompressed).
func (w *Writer) compressOne() bool {
	w.mu.Lock()
	var src *os.File
	n := w.o.MaxFiles - 1
	for ; n >= 1 && src == nil; n-- {
		src, _ = os.Open(rotatedName(w.path, n, false))
	}
	n++
	gen := w.gen
	w.mu.Unlock()
	if src == nil {
		return false
	}
	defer src.Close()
	tmp := w.path + ".tmp.gz"
	if err := compressFile(tmp, src, w.o.Format); err != nil {
		_ = os.Remove(tmp)
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// Rotations since the file was picked moved it by one place each.
	if n += int(w.gen - gen); n > w.o.MaxFiles-1 {
		_ = os.Remove(tmp) // rotated out meanwhile
		return true
	}
	if err := os.Rename(tmp, rotatedName(w.path, n, true)); err != nil {
		_ = os.Remove(tmp)
		return false
	}
	_ = os.Remove(rotatedName(w.path, n, false))
	return true
}

// compressFile writes src gzipped to dst. The gzip header's comment
// identifies the source file (see fileID) and holds its last entry's time,
// so readers find where a followed file went and skip files before --since
// without decompressing them.
func compressFile(dst string, src *os.File, format Format) error {
	id, err := identify(src)
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer out.Close()
	zw, err := gzip.NewWriterLevel(out, gzip.BestSpeed)
	if err != nil {
		return err
	}
	zw.Comment = fmt.Sprintf("berth-log ino=%d size=%d mtime=%d first=%d last=%d", id.ino, id.size, id.mtime, id.first, lastTime(src, int64(id.size), format).UnixNano())
	if _, err := io.Copy(zw, bufio.NewReaderSize(src, 32*1024)); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return out.Sync()
}

// lastTime is the time of the last entry of f (zero if unknown).
func lastTime(f *os.File, size int64, format Format) time.Time {
	off, _, err := tailOffset(f, size, 1)
	if err != nil {
		return time.Time{}
	}
	line := make([]byte, size-off)
	if _, err := f.ReadAt(line, off); err != nil && err != io.EOF {
		return time.Time{}
	}
	m, _ := format.decode(line)
	return m.Time
}

// fileID tells a finished log file from any other: its inode, and, as an
// inode number is reused once a compressed file's source is removed, its
// size, last modification and a hash of its first entry (which holds the
// entry's time to the nanosecond).
type fileID struct {
	ino, size uint64
	mtime     int64
	first     uint64
}

// identify returns f's identity.
func identify(f *os.File) (fileID, error) {
	st, err := f.Stat()
	if err != nil {
		return fileID{}, err
	}
	id := idOf(st)
	id.size = uint64(st.Size())
	buf := make([]byte, 4096)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return fileID{}, err
	}
	if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
		n = i
	}
	h := fnv.New64a()
	h.Write(buf[:n])
	id.first = h.Sum64()
	return id, nil
}

// gzipInfo reads the identity and last entry time a compressed file's
// header holds; ok is false for a file of another writer.
func gzipInfo(comment string) (id fileID, last time.Time, ok bool) {
	var lastNs int64
	n, err := fmt.Sscanf(comment, "berth-log ino=%d size=%d mtime=%d first=%d last=%d", &id.ino, &id.size, &id.mtime, &id.first, &lastNs)
	if err != nil || n != 5 || !strings.HasPrefix(comment, "berth-log ") {
		return fileID{}, time.Time{}, false
	}
	if lastNs > 0 {
		last = time.Unix(0, lastNs)
	}
	return id, last, true
}
