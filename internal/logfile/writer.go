// Package logfile owns the container log files: the writer the shim feeds
// with the container's output (rotating and compressing the files as
// configured) and the reader the daemon serves `logs` from, across the
// rotated and compressed files. Two formats: docker's json-file, one JSON
// object per line,
// {"log":"hello\n","stream":"stdout","time":"2026-11-27T02:31:54.123456789Z"},
// and berth's compact line format for the local driver (see Local).
//
// Rotation is docker's: the current file is <path>; when an entry would take
// it past MaxSize it is renamed <path>.1 (the older ones shift to .2, .3...,
// the oldest beyond MaxFiles-1 is removed) and a new <path> is started; with
// Compress, rotated files become <path>.N.gz in the background.
package logfile

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// timeFormat is docker's: always nine fractional digits, UTC.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// entry is one line of a json-file log.
type entry struct {
	Log    string            `json:"log"`
	Stream string            `json:"stream"`
	Attrs  map[string]string `json:"attrs,omitempty"`
	Time   string            `json:"time"`
}

// Options configure a Writer. The zero value writes one json-file log that
// grows without bound.
type Options struct {
	Format Format
	// MaxSize rotates the log before an entry would take the file past it
	// (so no file exceeds it unless one entry alone does); 0 never rotates.
	MaxSize int64
	// MaxFiles is how many files are kept, the current one included; below
	// 2 the log starts afresh when it is full.
	MaxFiles int
	// Compress gzips the rotated files, in the background.
	Compress bool
	// Attrs is the JSON object written as each json-file entry's "attrs"
	// (docker's --log-opt labels= and env=), or nil.
	Attrs []byte
}

// Writer appends log entries to a container log. It is safe for concurrent use.
type Writer struct {
	path string
	o    Options

	mu     sync.Mutex
	f      *os.File
	size   int64
	buf    []byte
	gen    uint64 // rotations so far: where the compressor's file went meanwhile
	kick   chan struct{}
	packed chan struct{} // closed when the compressor has stopped
}

// NewWriter opens (creating if needed) the log at path for appending.
func NewWriter(path string, o Options) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open container log: %w", err)
	}
	return &Writer{path: path, o: o, f: f, size: size}, nil
}

// Write appends one entry whose payload is p verbatim: a line with its
// trailing newline, or a partial line (see LineWriter). Each entry is written
// with a single write so concurrent readers never see half an entry. It
// never waits for a reader, nor for the compression of a rotated file.
func (w *Writer) Write(stream string, p []byte, t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return fmt.Errorf("write container log: %w", os.ErrClosed)
	}
	w.buf = w.o.Format.encode(w.buf[:0], stream, p, t, w.o.Attrs)
	if w.o.MaxSize > 0 && w.size > 0 && w.size+int64(len(w.buf)) > w.o.MaxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	if cap(w.buf) > 64*1024 {
		w.buf = nil // a huge entry's buffer is not kept for the container's life
	}
	if err != nil {
		return fmt.Errorf("write container log: %w", err)
	}
	return nil
}

// Close closes the log file and waits for a compression under way.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.f == nil {
		w.mu.Unlock()
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if w.kick != nil {
		close(w.kick)
	}
	packed := w.packed
	w.mu.Unlock()
	if packed != nil {
		<-packed
	}
	return err
}
