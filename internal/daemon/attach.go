package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/term"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/detachkeys"
	"github.com/berth-project/berth/internal/logfile"
	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/tasks"
)

// ContainerAttach connects the client's streams to the container's stdio. An
// attach to a created container waits for it to start and is connected before
// the process runs, so that `docker run` sees all of the output.
func (d *Daemon) ContainerAttach(ctx context.Context, name string, opts backend.AttachOptions) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	keys := detachkeys.Default
	if opts.DetachKeys != "" {
		if keys, err = term.ToBytes(opts.DetachKeys); err != nil {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid detach keys (%s) provided", opts.DetachKeys))
		}
	}
	c.Lock()
	tty, openStdin, status := c.Config.Tty, c.Config.OpenStdin, c.State.Status
	logPath, logFormat, readable := d.logFile(c)
	// The attach and detach events are logged without c's lock: a start
	// holds it while it waits for this attach to connect.
	actor := containerActor(c, nil)
	c.Unlock()
	if status == containertypes.StatePaused {
		return errdefs.ErrConflict.WithMessage("You cannot attach to a paused container, unpause it first")
	}

	var pending *tasks.PendingAttach
	if opts.Stream && status != containertypes.StateRunning {
		pending = d.tasks.AddPendingAttach(c.ID)
		defer d.tasks.RemovePendingAttach(c.ID, pending)
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
	if opts.Logs && readable {
		if err := replayLogs(ctx, logPath, logFormat, stdout, stderr); err != nil {
			return err
		}
	}
	d.logEvent(events.ContainerEventType, events.ActionAttach, actor)
	if !opts.Stream {
		return nil
	}

	target := d.attachTarget(ctx, c.ID, pending)
	if target == nil {
		return nil
	}
	var stdin io.Reader
	if opts.UseStdin && openStdin && streams.Stdin != nil {
		stdin = streams.Stdin
	}
	ao := shim.AttachOpts{Stdin: stdin, Stdout: stdout, Stderr: stderr, DetachKeys: keys}
	if pending != nil {
		ao.Attached = pending.Connected
	}
	err = target.Attach(ctx, ao)
	if errors.Is(err, shim.ErrDetached) || errors.Is(err, context.Canceled) {
		d.logEvent(events.ContainerEventType, events.ActionDetach, actor)
		return nil
	}
	return err
}

// attachTarget returns the shim to attach to, waiting for a start when the
// container is not running yet; nil when there is nothing to stream.
func (d *Daemon) attachTarget(ctx context.Context, id string, pending *tasks.PendingAttach) tasks.Shim {
	if pending == nil {
		if t := d.task(id); t != nil {
			return t.Shim()
		}
		return nil
	}
	for {
		changed := d.changes(id)
		select {
		case sh := <-pending.Ready():
			return sh
		case <-changed.ch:
			if _, err := d.containers.Get(id); err != nil {
				return nil // removed before it ran
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// replayLogs writes the container's past output (attach with logs=1).
func replayLogs(ctx context.Context, path string, format logfile.Format, stdout, stderr io.Writer) error {
	done := make(chan struct{})
	close(done)
	msgs, errs := logfile.Read(ctx, path, logfile.ReadOptions{Format: format, Tail: -1}, done)
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
