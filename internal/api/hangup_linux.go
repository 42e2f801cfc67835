package api

import (
	"context"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// probeInterval spaces the probes of a TCP peer that has shut its side.
const probeInterval = 2 * time.Second

// watchHangup calls hangup once the peer of a hijacked connection has gone
// away, until ctx ends. Reading cannot tell: a client that half-closes
// (docker attach does, as soon as its stdin ends, or at once without one)
// reads as EOF too. POLLHUP is only raised when both directions are shut,
// which on a unix socket means the client closed its end. On TCP a peer's
// FIN is a half-close whether the client ended its input or vanished: for
// a multiplexed stream, probe (an empty frame clients skip) is then sent
// now and then, and a vanished client's host answers it with a reset. A
// raw (TTY) stream has nothing to probe with: the next output, or the
// listener's TCP keepalive once the client's host has dropped the
// connection, tells. A TLS connection is watched through its socket.
func watchHangup(ctx context.Context, conn net.Conn, probe func() error, hangup func()) {
	raw := conn
	if tc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		raw = tc.NetConn()
	}
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return
	}
	if _, isTCP := raw.(*net.TCPConn); !isTCP {
		probe = nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	t := time.NewTicker(hangupPollInterval)
	defer t.Stop()
	var lastProbe time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var revents int16
		err := rc.Control(func(fd uintptr) {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
			if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
				revents = fds[0].Revents
			}
		})
		if err != nil || revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			hangup()
			return
		}
		if revents&unix.POLLRDHUP != 0 && probe != nil && time.Since(lastProbe) >= probeInterval {
			lastProbe = time.Now()
			if err := probe(); err != nil {
				hangup()
				return
			}
		}
	}
}
