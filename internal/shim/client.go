package shim

import (
	"time"

	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"syscall"

	"github.com/containerd/errdefs"
)

// Client talks to one shim. Every call opens its own connection, so calls
// are safe to make concurrently and survive nothing but the shim itself.
type Client struct {
	stateDir  string
	pid       int
	tty       bool
	openStdin bool
	stdinOnce bool
	started   time.Time // when the runtime started the process; set only when traced
}

// Started is when the runtime's run returned, the process running: known
// only for a traced start (Config.Trace), else zero.
func (c *Client) Started() time.Time { return c.started }

// Connect re-adopts the shim serving stateDir (after a berthd restart).
// It returns errdefs.ErrNotFound when no shim answers there; the exit status
// it may have left is then in ReadExitStatus.
func Connect(ctx context.Context, stateDir string) (*Client, error) {
	c := &Client{stateDir: stateDir}
	resp, err := c.call(ctx, request{Op: opInfo})
	if err != nil {
		return nil, err
	}
	c.pid, c.tty, c.openStdin, c.stdinOnce = resp.Pid, resp.Tty, resp.OpenStdin, resp.StdinOnce
	return c, nil
}

// Pid is the container's pid 1 in berthd's pid namespace.
func (c *Client) Pid() int { return c.pid }

// Start runs the container's process (runtime start).
func (c *Client) Start(ctx context.Context) error {
	_, err := c.call(ctx, request{Op: opStart})
	return err
}

// Release ends HoldOutput: later attaches see only later output.
func (c *Client) Release(ctx context.Context) error {
	_, err := c.call(ctx, request{Op: opRelease})
	return err
}

// Resize sets the container's terminal size; a no-op without a TTY.
func (c *Client) Resize(ctx context.Context, width, height uint16) error {
	_, err := c.call(ctx, request{Op: opResize, Width: width, Height: height})
	return err
}

// Kill sends sig to the container's pid 1. A container that no longer runs
// gives errdefs.ErrNotFound.
func (c *Client) Kill(ctx context.Context, sig syscall.Signal) error {
	_, err := c.call(ctx, request{Op: opKill, Signal: int(sig)})
	return err
}

// Wait blocks until the container exits and returns its status; at once if
// it already exited. When the shim is gone, the status it left on disk is
// returned (errdefs.ErrUnavailable if there is none).
func (c *Client) Wait(ctx context.Context) (ExitStatus, error) {
	resp, err := c.call(ctx, request{Op: opWait})
	if err == nil && resp.Exit != nil {
		return *resp.Exit, nil
	}
	if ctx.Err() != nil {
		return ExitStatus{}, ctx.Err()
	}
	if err != nil && !errdefs.IsNotFound(err) && !errdefs.IsUnavailable(err) {
		return ExitStatus{}, err
	}
	st, ok, rerr := ReadExitStatus(c.stateDir)
	if rerr != nil {
		return ExitStatus{}, rerr
	}
	if !ok {
		return ExitStatus{}, errdefs.ErrUnavailable.WithMessage(fmt.Sprintf("shim of %s exited without recording an exit status", c.stateDir))
	}
	return st, nil
}

// Shutdown tells the shim its container's exit is known: it deletes the
// container from the runtime and exits. A container still running is killed
// first. Idempotent: a shim already gone is not an error.
func (c *Client) Shutdown(ctx context.Context) error {
	_, err := c.call(ctx, request{Op: opShutdown})
	if errdefs.IsNotFound(err) || errdefs.IsUnavailable(err) {
		return nil
	}
	return err
}

// Close releases the client. The shim and its container are not affected.
func (c *Client) Close() error { return nil }

// dial connects to the shim; ErrNotFound when nothing listens.
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	var conn net.Conn
	err := withSocketPath(filepath.Join(c.stateDir, socketName), func(name string) (err error) {
		conn, err = d.DialContext(ctx, "unix", name)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("shim %s: %w", c.stateDir, errdefs.ErrNotFound.WithMessage("no shim is running"))
		}
		return nil, fmt.Errorf("connect to shim %s: %w", c.stateDir, err)
	}
	return conn, nil
}

// open sends req and reads the response, leaving the connection open (for
// attach). The connection is closed if ctx is cancelled before the response.
func (c *Client) open(ctx context.Context, req request) (net.Conn, *bufio.Reader, *response, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	br := bufio.NewReader(conn)
	var resp response
	if err := writeJSON(conn, req); err == nil {
		err = readJSON(br, &resp)
	}
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, nil, nil, ctx.Err()
		}
		return nil, nil, nil, fmt.Errorf("shim %s %s: %w", c.stateDir, req.Op, errdefs.ErrUnavailable.WithMessage(err.Error()))
	}
	if err := resp.err(); err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	return conn, br, &resp, nil
}

// call is a request/response exchange.
func (c *Client) call(ctx context.Context, req request) (*response, error) {
	conn, _, resp, err := c.open(ctx, req)
	if err != nil {
		return nil, err
	}
	conn.Close()
	return resp, nil
}

// Pause freezes the container's processes.
func (c *Client) Pause(ctx context.Context) error {
	_, err := c.call(ctx, request{Op: opPause})
	return err
}

// Resume thaws a paused container.
func (c *Client) Resume(ctx context.Context) error {
	_, err := c.call(ctx, request{Op: opResume})
	return err
}

// Update applies resources (a runtime-spec LinuxResources, JSON) to the
// running container.
func (c *Client) Update(ctx context.Context, resources []byte) error {
	_, err := c.call(ctx, request{Op: opUpdate, Resources: resources})
	return err
}
