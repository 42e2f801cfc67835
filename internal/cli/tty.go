package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/moby/term"
)

// terminalFd returns the file descriptor behind s and whether it is a terminal.
func terminalFd(s any) (uintptr, bool) {
	f, ok := s.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := f.Fd()
	return fd, term.IsTerminal(fd)
}

func isTerminal(s any) bool {
	_, ok := terminalFd(s)
	return ok
}

// checkTTY refuses -t with an attached stdin that is not a terminal, as
// docker does: a pipe cannot carry a terminal's line discipline.
func checkTTY(in io.Reader, attachStdin, tty bool) error {
	if tty && attachStdin && !isTerminal(in) {
		return errNotTTY
	}
	return nil
}

// setRawInput puts the terminal behind in into raw mode and returns the
// function that restores it; it may be called any number of times. When in is
// not a terminal nothing changes.
func setRawInput(in io.Reader) (restore func(), err error) {
	fd, ok := terminalFd(in)
	if !ok {
		return func() {}, nil
	}
	state, err := term.SetRawTerminal(fd)
	if err != nil {
		return nil, err
	}
	return sync.OnceFunc(func() { _ = term.RestoreTerminal(fd, state) }), nil
}

// ttySize returns the height and width of the terminal behind out, or zeros.
func ttySize(out io.Writer) (height, width uint) {
	fd, ok := terminalFd(out)
	if !ok {
		return 0, 0
	}
	ws, err := term.GetWinsize(fd)
	if err != nil || ws == nil {
		return 0, 0
	}
	return uint(ws.Height), uint(ws.Width)
}

func resizeTTY(ctx context.Context, api *client.Client, id string, height, width uint) error {
	if height == 0 && width == 0 {
		return nil
	}
	_, err := api.ContainerResize(ctx, id, client.ContainerResizeOptions{Height: height, Width: width})
	return err
}

// monitorTTYSize sends the terminal's size to the container now and after
// every window change, until ctx ends. The first resize is retried briefly:
// the container's pty may not be ready the instant it starts.
func monitorTTYSize(ctx context.Context, c *Cli, api *client.Client, id string) {
	monitorSize(ctx, c, func(height, width uint) error { return resizeTTY(ctx, api, id, height, width) })
}

// monitorSize is monitorTTYSize for any terminal: resizeTo sets its size
// (a container's, an exec's).
func monitorSize(ctx context.Context, c *Cli, resizeTo func(height, width uint) error) {
	resize := func() error {
		h, w := ttySize(c.Out)
		if h == 0 && w == 0 {
			return nil
		}
		return resizeTo(h, w)
	}
	if err := resize(); err != nil {
		go func() {
			for retry := 0; retry < 10; retry++ {
				time.Sleep(time.Duration(retry+1) * 10 * time.Millisecond)
				if err = resize(); err == nil {
					return
				}
			}
			fmt.Fprintln(c.Err, "failed to resize tty, using default size")
		}()
	}
	winch, stop := notifyResize()
	if winch == nil {
		return
	}
	go func() {
		defer stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-winch:
				_ = resize()
			}
		}
	}()
}
