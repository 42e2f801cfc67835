package logfile

import (
	"bytes"
	"time"
)

// MaxLineSize is where a line without a newline is cut into a partial entry,
// like docker's log copier (16K).
const MaxLineSize = 16 * 1024

// LineWriter cuts a raw output stream into log entries: one per line, and
// lines longer than MaxLineSize split into partial entries without a newline,
// as docker does. It is not safe for concurrent use; use one per stream.
type LineWriter struct {
	w      *Writer
	stream string
	buf    []byte
	now    func() time.Time
}

// NewLineWriter returns a LineWriter feeding w with entries of stream
// ("stdout" or "stderr").
func NewLineWriter(w *Writer, stream string) *LineWriter {
	return &LineWriter{w: w, stream: stream, now: time.Now}
}

// Write buffers p and writes every complete line (or full 16K chunk) to the log.
func (l *LineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	t := l.now()
	start := 0
	for start < len(l.buf) {
		rest := l.buf[start:]
		n := bytes.IndexByte(rest, '\n') + 1
		if n == 0 || n > MaxLineSize {
			if len(rest) < MaxLineSize {
				break
			}
			n = MaxLineSize
		}
		if err := l.w.Write(l.stream, rest[:n], t); err != nil {
			l.buf = append(l.buf[:0], l.buf[start:]...)
			return len(p), err
		}
		start += n
	}
	l.buf = append(l.buf[:0], l.buf[start:]...)
	return len(p), nil
}

// Flush writes a pending partial line as a partial entry.
func (l *LineWriter) Flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	err := l.w.Write(l.stream, l.buf, l.now())
	l.buf = l.buf[:0]
	return err
}
