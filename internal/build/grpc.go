package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/moby/buildkit/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServeBuildKit serves BuildKit's gRPC control API over the h2c
// connection upgrade hijacks from POST /grpc, until it closes. It starts
// BuildKit on first use. When that start fails (a full disk), the
// connection is upgraded all the same and every call answers the start's
// error: a client reports that error, where a refused upgrade would show
// it only "unable to upgrade to h2c, received 400".
func (b *Builder) ServeBuildKit(ctx context.Context, upgrade func() (net.Conn, error)) error {
	l := (*pipeListener)(nil)
	e, startErr := b.running()
	switch {
	case errors.Is(startErr, errClosed):
		return startErr
	case startErr == nil:
		l = e.listener
	}
	conn, err := upgrade()
	if err != nil {
		return err
	}
	done := make(chan struct{})
	c := &closeNotifyConn{Conn: conn, done: done}
	if startErr != nil {
		l = newPipeListener()
		server := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
			return status.Error(codes.Unavailable, startErr.Error())
		}))
		go func() { _ = server.Serve(l) }()
		defer server.Stop()
	}
	if err := l.push(c); err != nil {
		return err
	}
	select {
	case <-done:
	case <-ctx.Done():
		conn.Close()
	}
	return nil
}

// headerSessionID is the request header naming a session
// (BuildKit's session package keeps its constant unexported).
const headerSessionID = "X-Docker-Expose-Session-Uuid"

// ServeBuildSession serves a client's session over the connection upgrade
// hijacks from POST /session. A session id already being served is
// refused before the upgrade, as dockerd does: BuildKit's manager would
// otherwise let the second replace the first, and forget both when either
// ends.
//
// When BuildKit cannot start, the session is upgraded and held, unused,
// until its client closes it: the client hears why from its /grpc calls
// (see ServeBuildKit), not a refused upgrade.
func (b *Builder) ServeBuildSession(ctx context.Context, upgrade func() (net.Conn, error), header map[string][]string) error {
	e, err := b.running()
	if errors.Is(err, errClosed) {
		return err
	}
	if err != nil {
		conn, uerr := upgrade()
		if uerr != nil {
			return uerr
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		defer stop()
		_, _ = io.Copy(io.Discard, conn)
		_ = conn.Close()
		return nil
	}
	id := http.Header(header).Get(headerSessionID)
	release, err := e.reserveSession(id)
	if err != nil {
		return err
	}
	defer release()
	conn, err := upgrade()
	if err != nil {
		return err
	}
	return e.sessions.HandleConn(ctx, conn, header)
}

// Client returns a BuildKit client connected in-process to the controller,
// starting BuildKit on first use. The caller closes it.
func (b *Builder) Client(ctx context.Context) (*client.Client, error) {
	e, err := b.running()
	if err != nil {
		return nil, err
	}
	return client.New(ctx, "", client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		here, there := net.Pipe()
		if err := e.listener.push(there); err != nil {
			here.Close()
			return nil, err
		}
		return here, nil
	}))
}

// pipeListener hands in-process and hijacked connections to the gRPC
// server.
type pipeListener struct {
	conns  chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// push gives the server a connection.
func (l *pipeListener) push(c net.Conn) error {
	select {
	case l.conns <- c:
		return nil
	case <-l.closed:
		return errClosed
	}
}

// Accept implements net.Listener.
func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr implements net.Listener.
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "berthd-buildkit" }

// closeNotifyConn tells when the server closed the connection.
type closeNotifyConn struct {
	net.Conn
	once sync.Once
	done chan struct{}
}

func (c *closeNotifyConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { close(c.done) })
	return err
}

// sessionIDs are the ids of the sessions being served.
type sessionIDs struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

// reserveSession claims id for one session until release.
func (e *engine) reserveSession(id string) (release func(), err error) {
	s := &e.sessionIDs
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("session %s already exists", id))
	}
	if s.ids == nil {
		s.ids = make(map[string]struct{})
	}
	s.ids[id] = struct{}{}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.ids, id)
	}, nil
}
