package shim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/containerd/errdefs"
)

// ExecOpts describe one process exec'd in the container.
type ExecOpts struct {
	// Process is the runtime-spec process to run, as JSON.
	Process []byte
	Tty     bool
	// Stdin, when set, is the process's input; nil gives it /dev/null.
	Stdin          io.Reader
	Stdout, Stderr io.Writer // nil discards; with a TTY everything is on Stdout
	// Started, if set, is called once the process runs, with its pid and a
	// function that sets its terminal size.
	Started func(pid int, resize func(width, height uint16) error)
	// Kill, when closed before the process exits, has the shim SIGKILL it;
	// Exec still returns once it exited.
	Kill <-chan struct{}
}

// Exec runs a process in the running container and streams its stdio until
// it exits; it returns the process's exit code. A command the runtime could
// not execute gives a *runtime.ExecError; a container that no longer runs
// errdefs.ErrConflict. ctx bounds the start only: the call lasts until the
// process exits, and output the caller's writers refuse is discarded.
func (c *Client) Exec(ctx context.Context, o ExecOpts) (int, error) {
	conn, br, resp, err := c.open(ctx, request{Op: opExec, Process: o.Process, Tty: o.Tty, Stdin: o.Stdin != nil})
	if err != nil {
		return 0, err
	}
	defer conn.Close()

	var wmu sync.Mutex
	write := func(kind byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return writeFrame(conn, kind, p)
	}
	if o.Started != nil {
		o.Started(resp.Pid, func(width, height uint16) error {
			var b [4]byte
			binary.BigEndian.PutUint16(b[0:2], width)
			binary.BigEndian.PutUint16(b[2:4], height)
			return write(frameResize, b[:])
		})
	}
	if o.Stdin != nil {
		go func() {
			buf := make([]byte, 32*1024)
			for {
				n, rerr := o.Stdin.Read(buf)
				if n > 0 && write(frameStdin, buf[:n]) != nil {
					return
				}
				if rerr != nil {
					_ = write(frameStdinClose, nil)
					return
				}
			}
		}()
	}
	if o.Kill != nil {
		ended := make(chan struct{})
		defer close(ended)
		go func() {
			select {
			case <-o.Kill:
				_ = write(frameKill, nil)
			case <-ended:
			}
		}()
	}
	stdout, stderr := orDiscard(o.Stdout), orDiscard(o.Stderr)
	for {
		kind, p, err := readFrame(br)
		if err != nil {
			return 0, fmt.Errorf("exec: %w", errdefs.ErrUnavailable.WithMessage("connection to shim lost: "+err.Error()))
		}
		switch kind {
		case frameStdout:
			_, err = stdout.Write(p)
		case frameStderr:
			_, err = stderr.Write(p)
		case frameExit:
			code, err := strconv.Atoi(string(p))
			if err != nil {
				return 0, errors.New("exec: bad exit frame from shim")
			}
			return code, nil
		}
		if err != nil {
			// the client is gone: the process runs on, its output discarded
			stdout, stderr = io.Discard, io.Discard
		}
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
