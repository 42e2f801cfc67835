package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/moby/moby/api/pkg/stdcopy"
)

// Media types of container output streams.
const (
	mediaTypeRawStream         = "application/vnd.docker.raw-stream"
	mediaTypeMultiplexedStream = "application/vnd.docker.multiplexed-stream"
)

// responseWriter remembers whether the response has started (so that a
// handler's late error is logged rather than sent as a second status) and
// registers hijacked connections with the server.
type responseWriter struct {
	http.ResponseWriter
	server   *Server
	started  bool
	hijacked bool
}

// WriteHeader implements http.ResponseWriter.
func (w *responseWriter) WriteHeader(status int) {
	if status >= 200 {
		w.started = true
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (w *responseWriter) Write(p []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher.
func (w *responseWriter) Flush() {
	w.started = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker; Shutdown closes hijacked connections.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.hijacked = true
	w.server.track(conn)
	return conn, brw, nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// track registers a hijacked connection until it is closed.
func (s *Server) track(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Err() != nil {
		c.Close()
		return
	}
	s.hijacked[c] = struct{}{}
}

// untrack forgets a hijacked connection.
func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.hijacked, c)
}

// longPoll returns a context for requests that may wait indefinitely (wait,
// followed logs): it ends with the request or when the server shuts down.
func (s *Server) longPoll(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.stopping, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// streamWriter writes a streamed response and remembers whether anything
// was written: until then nothing has been sent, so an error can still
// become a proper HTTP status. With flush set, every write is flushed so
// each message reaches the client at once.
type streamWriter struct {
	w       http.ResponseWriter
	flush   bool
	started bool
}

// Write implements io.Writer.
func (s *streamWriter) Write(p []byte) (int, error) {
	s.started = true
	n, err := s.w.Write(p)
	if err != nil || !s.flush {
		return n, err
	}
	return n, http.NewResponseController(s.w).Flush()
}

// stdWriter frames everything written to it as one stdcopy stream: an
// 8-byte header (stream type, three zero bytes, big-endian payload length)
// followed by the payload. Writes to w are serialised by mu, which the
// writers of one response share, so frames never interleave.
type stdWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	stream stdcopy.StdType
}

// maxFrame bounds a frame's payload, so a huge write is sent in pieces.
const maxFrame = 32 * 1024

// newStdWriters returns stdout, stderr and system-error writers framing
// into w.
func newStdWriters(w io.Writer) (stdout, stderr, syserr io.Writer) {
	mu := new(sync.Mutex)
	return &stdWriter{mu, w, stdcopy.Stdout}, &stdWriter{mu, w, stdcopy.Stderr}, &stdWriter{mu, w, stdcopy.Systemerr}
}

// Write implements io.Writer.
func (s *stdWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxFrame)]
		frame := make([]byte, 8+len(chunk))
		frame[0] = byte(s.stream)
		binary.BigEndian.PutUint32(frame[4:8], uint32(len(chunk)))
		copy(frame[8:], chunk)
		if _, err := s.w.Write(frame); err != nil {
			return written, err
		}
		written += len(chunk)
		p = p[len(chunk):]
	}
	return written, nil
}

// probe writes an empty frame, between two others: clients skip it (the
// docker CLI's and docker-py's readers do), and a TCP peer that is gone
// answers it with a reset, which its FIN alone does not tell.
func (s *stdWriter) probe() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var header [8]byte
	header[0] = byte(s.stream)
	_, err := s.w.Write(header[:])
	return err
}

// lockedWriter serialises writes to a raw (TTY) stream shared by stdout and
// stderr.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

// Write implements io.Writer.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// hijackedStdin is the client's input on a hijacked connection: first the
// bytes the HTTP server had already buffered past the request, then the
// connection itself. Closing it shuts down only the reading side, so the
// engine closing stdin never cuts the output.
type hijackedStdin struct {
	io.Reader
	conn net.Conn
}

// newHijackedStdin returns the input stream of a connection hijacked with
// buffered bytes in br. It must be called before anything reads from br:
// after a hijack, reading br past its buffer would reach the server's
// connection reader, which panics.
func newHijackedStdin(conn net.Conn, br *bufio.Reader) *hijackedStdin {
	var early []byte
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		early = bytes.Clone(b)
	}
	return &hijackedStdin{Reader: io.MultiReader(bytes.NewReader(early), conn), conn: conn}
}

// Close implements io.Closer.
func (h *hijackedStdin) Close() error {
	if cr, ok := h.conn.(interface{ CloseRead() error }); ok {
		if err := cr.CloseRead(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return nil
}
