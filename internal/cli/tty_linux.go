package cli

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"
)

// notifyResize delivers the terminal's window-change signals.
func notifyResize() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	return ch, func() { signal.Stop(ch) }
}

// forwardSignals proxies every signal berth receives to the container, as
// docker's --sig-proxy does, until the returned stop function is called.
func forwardSignals(ctx context.Context, api *client.Client, id string) (stop func()) {
	ch := make(chan os.Signal, 128)
	signal.Notify(ch)
	done := make(chan struct{})
	go func() {
		for {
			var s os.Signal
			select {
			case s = <-ch:
			case <-done:
				return
			}
			sig, ok := s.(syscall.Signal)
			if !ok {
				continue
			}
			switch sig {
			// SIGURG is the Go runtime's preemption signal; SIGWINCH travels
			// as a resize; SIGCHLD and SIGPIPE concern berth itself.
			case syscall.SIGCHLD, syscall.SIGPIPE, syscall.SIGURG, syscall.SIGWINCH:
				continue
			}
			name := strings.TrimPrefix(unix.SignalName(sig), "SIG")
			if name == "" {
				continue
			}
			_, _ = api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: name})
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
