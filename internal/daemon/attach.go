package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/term"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/logfile"
	"github.com/berth-project/berth/internal/shim"
)

// attachConnectTimeout bounds how long a start waits for attaches to connect.
const attachConnectTimeout = 5 * time.Second

// defaultDetachKeys is docker's ctrl-p,ctrl-q.
var defaultDetachKeys = []byte{16, 17}

// pendingAttach is an attach to a created container, waiting for its start.
type pendingAttach struct {
	ready     chan *shim.Client // receives the shim once the container is created
	connected chan struct{}     // closed once the attach reached the shim
}

// ContainerAttach connects the client's streams to the container's stdio. An
// attach to a created container waits for it to start and is connected before
// the process runs, so that `docker run` sees all of the output.
func (d *Daemon) ContainerAttach(ctx context.Context, name string, opts backend.AttachOptions) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	keys := defaultDetachKeys
	if opts.DetachKeys != "" {
		if keys, err = term.ToBytes(opts.DetachKeys); err != nil {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid detach keys (%s) provided", opts.DetachKeys))
		}
	}
	c.Lock()
	tty, openStdin, status, logPath := c.Config.Tty, c.Config.OpenStdin, c.State.Status, c.LogPath
	c.Unlock()
	if status == containertypes.StatePaused {
		return errdefs.ErrConflict.WithMessage("You cannot attach to a paused container, unpause it first")
	}

	var pending *pendingAttach
	if opts.Stream && status != containertypes.StateRunning {
		pending = d.addPendingAttach(c.ID)
		defer d.removePendingAttach(c.ID, pending)
	}
	streams, err := opts.GetStreams(!tty)
	if err != nil {
		return err
	}
	if streams.Stdin != nil {
		defer streams.Stdin.Close()
	}
	stdout, stderr := streams.Stdout, streams.Stderr
	if !opts.UseStdout {
		stdout = nil
	}
	if !opts.UseStderr || tty {
		stderr = nil
	}
	if opts.Logs {
		if err := replayLogs(ctx, logPath, stdout, stderr); err != nil {
			return err
		}
	}
	if !opts.Stream {
		return nil
	}

	client, err := d.attachTarget(ctx, c.ID, pending)
	if err != nil || client == nil {
		return err
	}
	var stdin io.Reader
	if opts.UseStdin && openStdin && streams.Stdin != nil {
		stdin = streams.Stdin
	}
	ao := shim.AttachOpts{Stdin: stdin, Stdout: stdout, Stderr: stderr, DetachKeys: keys}
	if pending != nil {
		ao.Attached = func() { close(pending.connected) }
	}
	err = client.Attach(ctx, ao)
	if errors.Is(err, shim.ErrDetached) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// attachTarget returns the shim to attach to, waiting for a start when the
// container is not running yet. A nil client means there is nothing to stream.
func (d *Daemon) attachTarget(ctx context.Context, id string, pending *pendingAttach) (*shim.Client, error) {
	if pending == nil {
		if t := d.task(id); t != nil {
			return t.shim, nil
		}
		return nil, nil
	}
	for {
		changed := d.changes(id)
		select {
		case client := <-pending.ready:
			return client, nil
		case <-changed:
			if _, err := d.containers.Get(id); err != nil {
				return nil, nil // removed before it ran
			}
		case <-ctx.Done():
			return nil, nil
		}
	}
}

// hasPendingAttaches reports whether attaches wait for id's start.
func (d *Daemon) hasPendingAttaches(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending[id]) > 0
}

func (d *Daemon) addPendingAttach(id string) *pendingAttach {
	p := &pendingAttach{ready: make(chan *shim.Client, 1), connected: make(chan struct{})}
	d.mu.Lock()
	d.pending[id] = append(d.pending[id], p)
	d.mu.Unlock()
	return p
}

func (d *Daemon) removePendingAttach(id string, p *pendingAttach) {
	d.mu.Lock()
	defer d.mu.Unlock()
	list := d.pending[id]
	for i, q := range list {
		if q == p {
			d.pending[id] = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(d.pending[id]) == 0 {
		delete(d.pending, id)
	}
}

// connectPendingAttaches hands the new shim to every waiting attach and waits
// (briefly) until each has connected, so none misses the first output.
func (d *Daemon) connectPendingAttaches(id string, client *shim.Client) {
	d.mu.Lock()
	list := append([]*pendingAttach(nil), d.pending[id]...)
	delete(d.pending, id)
	d.mu.Unlock()
	for _, p := range list {
		p.ready <- client
	}
	for _, p := range list {
		select {
		case <-p.connected:
		case <-time.After(attachConnectTimeout):
			d.log.Warn("attach did not connect in time", "id", id)
		}
	}
}

// replayLogs writes the container's past output (attach with logs=1).
func replayLogs(ctx context.Context, path string, stdout, stderr io.Writer) error {
	done := make(chan struct{})
	close(done)
	msgs, errs := logfile.Read(ctx, path, logfile.ReadOptions{Tail: -1}, done)
	for m := range msgs {
		w := stdout
		if m.Stream == "stderr" {
			w = stderr
		}
		if w != nil {
			if _, err := w.Write(m.Line); err != nil {
				return err
			}
		}
	}
	return <-errs
}
