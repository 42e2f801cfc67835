package api

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/containerd/errdefs"
)

// buildKitRoutes registers BuildKit's /grpc and /session endpoints: both
// upgrade the connection to h2c (as dockerd's grpc and session routers do)
// and hand it to the embedded BuildKit until it closes.
func (s *Server) buildKitRoutes() {
	s.handle("POST /grpc", s.serveGRPC)
	s.handle("POST /session", s.serveSession)
}

// serveGRPC serves BuildKit's control API over the upgraded connection.
func (s *Server) serveGRPC(w http.ResponseWriter, r *http.Request) error {
	return s.upgradeH2C(w, r, func(ctx context.Context, conn net.Conn) error {
		return s.backend.ServeBuildKit(ctx, conn)
	})
}

// serveSession serves a client's build session over the upgraded
// connection; the request's headers carry the session's id and methods.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request) error {
	header := r.Header.Clone()
	return s.upgradeH2C(w, r, func(ctx context.Context, conn net.Conn) error {
		return s.backend.ServeBuildSession(ctx, conn, header)
	})
}

// upgradeH2C checks the request asks for h2c, hijacks the connection,
// answers 101 Switching Protocols and runs serve on it. Errors before the
// hijack get a status; later ones only end the connection.
func (s *Server) upgradeH2C(w http.ResponseWriter, r *http.Request, serve func(context.Context, net.Conn) error) error {
	proto := r.Header.Get("Upgrade")
	if proto == "" {
		return errdefs.ErrInvalidArgument.WithMessage("no upgrade proto in request")
	}
	if proto != "h2c" {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("protocol %s not supported", proto))
	}
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		return errdefs.ErrInvalidArgument.WithMessage("handler does not support hijack")
	}
	c, brw, err := hijacker.Hijack()
	if err != nil {
		return fmt.Errorf("hijack connection: %w", err)
	}
	defer s.untrack(c)
	var conn net.Conn = c
	if n := brw.Reader.Buffered(); n > 0 {
		// Bytes the server read ahead belong to the new protocol.
		ahead, _ := brw.Reader.Peek(n)
		conn = &prefixedConn{Conn: c, head: append([]byte(nil), ahead...)}
	}
	resp := &http.Response{StatusCode: http.StatusSwitchingProtocols, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}}
	resp.Header.Set("Connection", "Upgrade")
	resp.Header.Set("Upgrade", proto)
	if err := resp.Write(c); err != nil {
		c.Close()
		return nil
	}
	ctx, cancel := s.longPoll(context.WithoutCancel(r.Context()))
	defer cancel()
	if err := serve(ctx, conn); err != nil && s.opts.Logf != nil {
		s.opts.Logf("api: %s %s: %v", r.Method, r.URL.Path, err)
	}
	c.Close()
	return nil
}

// prefixedConn is a hijacked connection whose reads start with the bytes
// the HTTP server had buffered.
type prefixedConn struct {
	net.Conn
	head []byte
}

func (c *prefixedConn) Read(b []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(b, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}
