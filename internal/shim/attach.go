package shim

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/detachkeys"
)

// Attach streams the container's output to o.Stdout and o.Stderr and o.Stdin
// to the container. Several clients may attach at once; output produced
// while nobody is attached only goes to the log. It returns nil when the
// container's output ends (it exited), or when o.Stdin ends and the container
// is not StdinOnce without TTY (docker: the attach ends, the container goes
// on; with StdinOnce the container's stdin is closed instead and output keeps
// streaming). It returns ErrDetached when the detach keys are typed (TTY
// only, like docker) and ctx.Err() when ctx is cancelled. A goroutine may
// stay blocked reading o.Stdin after Attach returned.
func (c *Client) Attach(ctx context.Context, o AttachOpts) error {
	req := request{Op: opAttach, Stdin: o.Stdin != nil, Stdout: o.Stdout != nil, Stderr: o.Stderr != nil && !c.tty}
	conn, br, _, err := c.open(ctx, req)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if o.Attached != nil {
		o.Attached()
	}

	outc := make(chan error, 1)
	go func() { outc <- receive(br, o.Stdout, o.Stderr) }()
	var inc chan error
	if o.Stdin != nil {
		var keys []byte
		if c.tty {
			keys = o.DetachKeys
			if len(keys) == 0 {
				keys = detachkeys.Default
			}
		}
		inc = make(chan error, 1)
		go func() { inc <- send(conn, o.Stdin, keys) }()
	}
	for {
		select {
		case err := <-outc:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		case err := <-inc:
			inc = nil
			if errors.Is(err, ErrDetached) {
				return ErrDetached
			}
			// Input ended or failed: the output goes on, the shim ends it when it must.
		}
	}
}

// receive demultiplexes the shim's frames until the end frame.
func receive(r io.Reader, stdout, stderr io.Writer) error {
	for {
		kind, p, err := readFrame(r)
		if err != nil {
			return fmt.Errorf("attach: %w", errdefs.ErrUnavailable.WithMessage("connection to shim lost: "+err.Error()))
		}
		var w io.Writer
		switch kind {
		case frameStdout:
			w = stdout
		case frameStderr:
			w = stderr
		case frameEnd:
			if len(p) > 0 {
				return errors.New(string(p))
			}
			return nil
		}
		if w != nil {
			if _, err := w.Write(p); err != nil {
				return fmt.Errorf("attach: write output: %w", err)
			}
		}
	}
}

// send forwards input to the shim, watching for the detach keys (nil: none).
// Bytes of a partial match are held until the match fails, then forwarded,
// as docker does.
func send(conn io.Writer, in io.Reader, keys []byte) error {
	buf := make([]byte, 32*1024)
	held := 0 // keys[:held] typed so far
	for {
		n, rerr := in.Read(buf)
		out := make([]byte, 0, n+held)
		for _, b := range buf[:n] {
			if keys != nil && b == keys[held] {
				held++
				if held == len(keys) {
					if len(out) > 0 {
						_ = writeFrame(conn, frameStdin, out)
					}
					return ErrDetached
				}
				continue
			}
			if held > 0 {
				out = append(out, keys[:held]...)
				held = 0
				if b == keys[0] {
					held = 1
					continue
				}
			}
			out = append(out, b)
		}
		if rerr != nil {
			out = append(out, keys[:held]...)
		}
		if len(out) > 0 {
			if err := writeFrame(conn, frameStdin, out); err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) {
			return writeFrame(conn, frameStdinClose, nil)
		}
		if rerr != nil {
			return rerr
		}
	}
}
