package api

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/containerd/errdefs"
)

// hangupPollInterval is how often an attach session checks whether its
// client is still there (see watchHangup).
const hangupPollInterval = 500 * time.Millisecond

// containerAttach answers POST /containers/{id}/attach by hijacking the
// connection. The engine calls GetStreams once it knows whether the
// container has a TTY; until then, errors are ordinary HTTP responses.
func (s *Server) containerAttach(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		return errdefs.ErrInvalidArgument.WithMessage("attach needs a connection that can be hijacked")
	}
	_, upgrade := r.Header["Upgrade"]
	multiplexedType := versionAtLeast(r.Context(), "1.42")

	ctx, cancel := s.longPoll(r.Context())
	defer cancel()

	var (
		mu   sync.Mutex
		conn net.Conn
	)
	opts := AttachOptions{
		UseStdin:   boolValue(q, "stdin"),
		UseStdout:  boolValue(q, "stdout"),
		UseStderr:  boolValue(q, "stderr"),
		Logs:       boolValue(q, "logs"),
		Stream:     boolValue(q, "stream"),
		DetachKeys: q.Get("detachKeys"),
	}
	opts.GetStreams = func(multiplexed bool) (*AttachStreams, error) {
		mu.Lock()
		defer mu.Unlock()
		if conn != nil {
			return nil, errors.New("attach: streams already taken")
		}
		c, brw, err := hijacker.Hijack()
		if err != nil {
			return nil, fmt.Errorf("attach: hijack connection: %w", err)
		}
		conn = c
		go watchHangup(ctx, c, cancel)
		// Take the bytes the server read ahead before writing anything.
		stdin := newHijackedStdin(c, brw.Reader)
		contentType := mediaTypeRawStream
		if multiplexed && multiplexedType {
			contentType = mediaTypeMultiplexedStream
		}
		if err := writeHijackHeader(c, w.Header(), upgrade, contentType); err != nil {
			return nil, fmt.Errorf("attach: write response header: %w", err)
		}
		streams := &AttachStreams{}
		if opts.UseStdin {
			streams.Stdin = stdin
		}
		if multiplexed {
			streams.Stdout, streams.Stderr, _ = newStdWriters(c)
		} else {
			raw := &lockedWriter{mu: new(sync.Mutex), w: c}
			streams.Stdout, streams.Stderr = raw, raw
		}
		return streams, nil
	}

	// Once hijacked, the connection is ours to close, even if the backend
	// panics.
	hijacked := func() net.Conn {
		mu.Lock()
		defer mu.Unlock()
		return conn
	}
	defer func() {
		if c := hijacked(); c != nil {
			closeHijacked(c)
			s.untrack(c)
		}
	}()

	err = s.backend.ContainerAttach(ctx, r.PathValue("id"), opts)
	if err != nil && hijacked() != nil {
		// The client has its 101: all it can learn is the end of the stream.
		s.opts.Logf("api: attach to %s: %v", r.PathValue("id"), err)
		return nil
	}
	return err
}

// writeHijackHeader answers a hijacked request by hand: 101 for clients
// that asked to upgrade (the moby client insists on it), 200 for the
// others, followed by the headers the response writer had collected.
func writeHijackHeader(c net.Conn, h http.Header, upgrade bool, contentType string) error {
	bw := bufio.NewWriter(c)
	if upgrade {
		fmt.Fprintf(bw, "HTTP/1.1 101 UPGRADED\r\nContent-Type: %s\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n", contentType)
	} else {
		fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n", contentType)
	}
	if err := h.WriteSubset(bw, map[string]bool{"Content-Type": true, "Connection": true, "Upgrade": true}); err != nil {
		return err
	}
	bw.WriteString("\r\n")
	return bw.Flush()
}

// closeHijacked ends an attach session: the write side first, so the
// client reads EOF after the last output, then the connection.
func closeHijacked(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = c.Close()
}
