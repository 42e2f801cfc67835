package daemon

import (
	"context"
	"fmt"
	"strconv"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/logfile"
)

// ContainerLogs streams a container's log, across its rotated files.
func (d *Daemon) ContainerLogs(ctx context.Context, name string, opts backend.LogsOptions) (<-chan backend.LogMessage, bool, error) {
	c, err := d.lookup(name)
	if err != nil {
		return nil, false, err
	}
	c.Lock()
	path, format, readable := d.logFile(c)
	tty := c.Config.Tty
	c.Unlock()
	if !readable {
		return nil, false, errdefs.ErrNotImplemented.WithMessage("configured logging driver does not support reading")
	}
	tail := -1
	if opts.Tail != "" && opts.Tail != "all" {
		n, err := strconv.Atoi(opts.Tail)
		if err != nil {
			return nil, false, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid value for \"tail\": %q", opts.Tail))
		}
		if n >= 0 {
			tail = n
		}
	}
	stopped := make(chan struct{})
	if t := d.task(c.ID); t != nil && opts.Follow {
		go func() {
			select {
			case <-t.Done():
			case <-ctx.Done():
			}
			close(stopped)
		}()
	} else {
		close(stopped)
	}
	msgs, errs := logfile.Read(ctx, path, logfile.ReadOptions{
		Format: format, Tail: tail, Since: opts.Since, Until: opts.Until, Follow: opts.Follow,
	}, stopped)
	out := make(chan backend.LogMessage)
	go func() {
		defer close(out)
		for m := range msgs {
			if (m.Stream == "stdout" && !opts.Stdout) || (m.Stream == "stderr" && !opts.Stderr) {
				continue
			}
			select {
			case out <- backend.LogMessage{Stream: m.Stream, Line: m.Line, Time: m.Time, Attrs: m.Attrs}:
			case <-ctx.Done():
				return
			}
		}
		if err := <-errs; err != nil && ctx.Err() == nil {
			select {
			case out <- backend.LogMessage{Err: err}:
			case <-ctx.Done():
			}
		}
	}()
	return out, tty, nil
}
