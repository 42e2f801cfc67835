// Package logfile owns the json-file container log: the writer the shim feeds
// with the container's output and the reader the daemon serves `logs` from.
// The format is docker's json-file driver: one JSON object per line,
// {"log":"hello\n","stream":"stdout","time":"2026-11-27T02:31:54.123456789Z"}.
package logfile

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// timeFormat is docker's: always nine fractional digits, UTC.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// entry is one line of the log file.
type entry struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

// Writer appends log entries to a json-file log. It is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	f   *os.File
	buf []byte
}

// NewWriter opens (creating if needed) the log at path for appending.
func NewWriter(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	return &Writer{f: f}, nil
}

// Write appends one entry whose "log" field is p verbatim: a line with its
// trailing newline, or a partial line (see LineWriter). Each entry is written
// with a single write so concurrent readers never see half an entry.
func (w *Writer) Write(stream string, p []byte, t time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return fmt.Errorf("write container log: %w", os.ErrClosed)
	}
	w.buf = appendEntry(w.buf[:0], stream, p, t)
	if _, err := w.f.Write(w.buf); err != nil {
		return fmt.Errorf("write container log: %w", err)
	}
	return nil
}

// Close closes the log file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
