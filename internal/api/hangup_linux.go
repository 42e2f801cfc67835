package api

import (
	"context"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// watchHangup calls hangup once the peer of a hijacked connection has gone
// away, until ctx ends. Reading cannot tell: a client that half-closes
// (docker attach does, as soon as its stdin ends) reads as EOF too. POLLHUP
// is only raised when both directions are shut, which on a unix socket
// means the client closed its end; on TCP a peer's FIN is a half-close, so
// only a reset is seen there: the listener's TCP keepalive brings one
// once the client's host has dropped the connection. A TLS connection is
// watched through its socket.
func watchHangup(ctx context.Context, conn net.Conn, hangup func()) {
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = tc.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	t := time.NewTicker(hangupPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var hup bool
		err := rc.Control(func(fd uintptr) {
			fds := []unix.PollFd{{Fd: int32(fd)}}
			if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
				hup = fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0
			}
		})
		if err != nil || hup {
			hangup()
			return
		}
	}
}
