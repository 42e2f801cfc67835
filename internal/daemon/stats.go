package daemon

import (
	"context"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
)

// statsInterval is how often a streamed stats request gets a sample
// (dockerd's collector interval).
const statsInterval = time.Second

// statsWindow is how far apart the two samples of a one-off (stream=false)
// request are, so that it carries a precpu_stats for the CPU %. dockerd
// answers after its next collector tick instead (up to a second).
const statsWindow = 50 * time.Millisecond

// ContainerStats sends the container's stats to emit: one sample when
// stream is false (with precpu_stats taken statsWindow earlier, unless
// oneShot), else one sample a second until ctx ends. A container that does
// not run gives an empty sample (docker's zeros).
func (d *Daemon) ContainerStats(ctx context.Context, name string, stream, oneShot bool, emit func(*containertypes.StatsResponse) error) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	if d.accounting == nil {
		return errdefs.ErrNotImplemented.WithMessage("stats are not supported by this daemon")
	}
	var prev *containertypes.StatsResponse
	next := func() *containertypes.StatsResponse {
		s := d.statsSample(ctx, c)
		if prev != nil && !s.Read.IsZero() && !prev.Read.IsZero() {
			s.PreRead, s.PreCPUStats = prev.Read, prev.CPUStats
		}
		prev = s
		return s
	}
	if !stream {
		s := next()
		if !oneShot && !s.Read.IsZero() {
			select {
			case <-time.After(statsWindow):
			case <-ctx.Done():
				return ctx.Err()
			}
			s = next()
		}
		return emit(s)
	}
	ticker := time.NewTicker(statsInterval)
	defer ticker.Stop()
	for {
		if err := emit(next()); err != nil {
			return err
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// statsSample reads c's counters now; zeros (and no read time) when it does
// not run.
func (d *Daemon) statsSample(ctx context.Context, c *container.Container) *containertypes.StatsResponse {
	c.Lock()
	id, name, status, pid := c.ID, c.Name, c.State.Status, c.State.Pid
	c.Unlock()
	empty := &containertypes.StatsResponse{ID: id, Name: name}
	if (status != containertypes.StateRunning && status != containertypes.StatePaused) || pid == 0 {
		return empty
	}
	s, err := d.accounting.Stats(ctx, pid)
	if err != nil {
		d.log.Debug("stats", "id", id, "err", err)
		return empty
	}
	s.ID, s.Name, s.Read = id, name, time.Now().UTC()
	return s
}
