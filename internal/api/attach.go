package api

import (
	"bufio"
	"context"
	"crypto/tls"
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
	ctx, cancel := s.longPoll(r.Context())
	defer cancel()

	opts := AttachOptions{
		UseStdin:   boolValue(q, "stdin"),
		UseStdout:  boolValue(q, "stdout"),
		UseStderr:  boolValue(q, "stderr"),
		Logs:       boolValue(q, "logs"),
		Stream:     boolValue(q, "stream"),
		DetachKeys: q.Get("detachKeys"),
	}
	hs, err := s.newHijackSession(ctx, cancel, w, r, opts.UseStdin)
	if err != nil {
		return err
	}
	defer hs.close()
	opts.GetStreams = hs.getStreams

	err = s.backend.ContainerAttach(ctx, r.PathValue("id"), opts)
	if err != nil && hs.hijacked() != nil {
		// The client has its 101: all it can learn is the end of the stream.
		s.opts.Logf("api: attach to %s: %v", r.PathValue("id"), err)
		return nil
	}
	return err
}

// hijackSession hands a request's connection to the engine as streams,
// once the engine asks for them (attach, exec start).
type hijackSession struct {
	s         *Server
	ctx       context.Context
	cancel    context.CancelFunc
	w         http.ResponseWriter
	hijacker  http.Hijacker
	upgrade   bool
	muxType   bool // the client understands the multiplexed media type
	withStdin bool

	mu   sync.Mutex
	conn net.Conn
}

func (s *Server) newHijackSession(ctx context.Context, cancel context.CancelFunc, w http.ResponseWriter, r *http.Request, withStdin bool) (*hijackSession, error) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		return nil, errdefs.ErrInvalidArgument.WithMessage("attach needs a connection that can be hijacked")
	}
	_, upgrade := r.Header["Upgrade"]
	return &hijackSession{
		s: s, ctx: ctx, cancel: cancel, w: w, hijacker: hijacker, upgrade: upgrade,
		muxType: versionAtLeast(r.Context(), "1.42"), withStdin: withStdin,
	}, nil
}

// getStreams hijacks the connection and answers the request: the output
// is framed with stdcopy when multiplexed (no TTY), raw otherwise.
func (hs *hijackSession) getStreams(multiplexed bool) (*AttachStreams, error) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.conn != nil {
		return nil, errors.New("attach: streams already taken")
	}
	c, brw, err := hs.hijacker.Hijack()
	if err != nil {
		return nil, fmt.Errorf("attach: hijack connection: %w", err)
	}
	hs.conn = c
	// Take the bytes the server read ahead before writing anything.
	stdin := newHijackedStdin(c, brw.Reader)
	contentType := mediaTypeRawStream
	if multiplexed && hs.muxType {
		contentType = mediaTypeMultiplexedStream
	}
	if err := writeHijackHeader(c, hs.w.Header(), hs.upgrade, contentType); err != nil {
		return nil, fmt.Errorf("attach: write response header: %w", err)
	}
	streams := &AttachStreams{}
	if hs.withStdin {
		streams.Stdin = stdin
	}
	var probe func() error
	if multiplexed {
		streams.Stdout, streams.Stderr, _ = newStdWriters(c)
		probe = streams.Stdout.(*stdWriter).probe
	} else {
		raw := &lockedWriter{mu: new(sync.Mutex), w: c}
		streams.Stdout, streams.Stderr = raw, raw
	}
	go watchHangup(hs.ctx, c, probe, hs.cancel)
	return streams, nil
}

// hijacked is the hijacked connection, nil before getStreams.
func (hs *hijackSession) hijacked() net.Conn {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.conn
}

// close ends the session: once hijacked, the connection is ours to close,
// even if the backend panicked.
func (hs *hijackSession) close() {
	if c := hs.hijacked(); c != nil {
		closeHijacked(c)
		hs.s.untrack(c)
	}
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
// client reads EOF after the last output, then the connection. On TLS the
// end is a close_notify, sent within a bounded time: a write stuck on a
// client that stopped reading is cut first (tls.Conn's CloseWrite would
// wait for it), then the socket is shut as for plain TCP.
func closeHijacked(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		_ = tc.SetWriteDeadline(time.Now().Add(time.Second))
		_ = tc.CloseWrite()
		c = tc.NetConn()
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = c.Close()
}
