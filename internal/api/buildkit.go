package api

import (
	"context"
	"errors"
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
// dockerd's grpc router answers a request it cannot upgrade with an
// untyped error, so a 500, which clients may expect; so does berthd.
func (s *Server) serveGRPC(w http.ResponseWriter, r *http.Request) error {
	if err := checkUpgradeH2C(r); err != nil {
		return errors.New(err.Error())
	}
	return s.upgradeH2C(w, r, func(ctx context.Context, upgrade func() (net.Conn, error)) error {
		return s.backend.ServeBuildKit(ctx, upgrade)
	})
}

// serveSession serves a client's build session over the upgraded
// connection; the request's headers carry the session's id and methods.
// Every refusal is a 400, as dockerd's session router answers.
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request) error {
	if err := checkUpgradeH2C(r); err != nil {
		return err
	}
	header := r.Header.Clone()
	err := s.upgradeH2C(w, r, func(ctx context.Context, upgrade func() (net.Conn, error)) error {
		return s.backend.ServeBuildSession(ctx, upgrade, header)
	})
	if err != nil && !errdefs.IsInvalidArgument(err) {
		err = errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	return err
}

// checkUpgradeH2C checks the request asks for h2c, with dockerd's
// messages.
func checkUpgradeH2C(r *http.Request) error {
	switch proto := r.Header.Get("Upgrade"); proto {
	case "":
		return errdefs.ErrInvalidArgument.WithMessage("no upgrade proto in request")
	case "h2c":
		return nil
	default:
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("protocol %s not supported", proto))
	}
}

// upgradeH2C runs serve with a function that hijacks the connection and
// answers 101 Switching Protocols. Until serve calls it, serve's error
// becomes the response's status (the builder refuses a session id in use
// or fails to start); later errors only end the connection.
func (s *Server) upgradeH2C(w http.ResponseWriter, r *http.Request, serve func(context.Context, func() (net.Conn, error)) error) error {
	var raw net.Conn // the hijacked connection, tracked by the server
	upgrade := func() (net.Conn, error) {
		if raw != nil {
			return nil, errors.New("connection already upgraded")
		}
		c, conn, err := hijackH2C(w)
		raw = c
		return conn, err
	}
	ctx, cancel := s.longPoll(context.WithoutCancel(r.Context()))
	defer cancel()
	err := serve(ctx, upgrade)
	if raw == nil {
		if err == nil {
			err = errors.New("builder did not serve the connection")
		}
		return err
	}
	if err != nil && s.opts.Logf != nil {
		s.opts.Logf("api: %s %s: %v", r.Method, r.URL.Path, err)
	}
	raw.Close()
	s.untrack(raw)
	return nil
}

// hijackH2C takes the connection from the HTTP server and answers 101.
// It returns the hijacked connection and the one to serve: bytes the
// server read ahead belong to the new protocol and are read first.
func hijackH2C(w http.ResponseWriter) (hijacked, conn net.Conn, err error) {
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("handler does not support hijack")
	}
	c, brw, err := hijacker.Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack connection: %w", err)
	}
	resp := &http.Response{StatusCode: http.StatusSwitchingProtocols, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}}
	resp.Header.Set("Connection", "Upgrade")
	resp.Header.Set("Upgrade", "h2c")
	if err := resp.Write(c); err != nil {
		return c, nil, fmt.Errorf("answer the upgrade: %w", err)
	}
	if n := brw.Reader.Buffered(); n > 0 {
		ahead, _ := brw.Reader.Peek(n)
		return c, &prefixedConn{Conn: c, head: append([]byte(nil), ahead...)}, nil
	}
	return c, c, nil
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
