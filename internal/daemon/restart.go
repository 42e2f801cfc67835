package daemon

import (
	"context"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
)

// Restart delays double from 100ms up to a minute, like docker's; a
// container that ran for 10s or more starts again at the shortest delay.
const (
	minRestartDelay = 100 * time.Millisecond
	maxRestartDelay = time.Minute
	resetAfter      = 10 * time.Second
)

// shouldRestart applies c's restart policy to an exit. c is locked.
func shouldRestart(c *container.Container, code int) bool {
	if c.ManuallyStopped {
		return false
	}
	p := c.HostConfig.RestartPolicy
	switch p.Name {
	case containertypes.RestartPolicyAlways, containertypes.RestartPolicyUnlessStopped:
		return true
	case containertypes.RestartPolicyOnFailure:
		return code != 0 && (p.MaximumRetryCount == 0 || c.RestartCount < p.MaximumRetryCount)
	}
	return false
}

// restartDelay is the back-off before the next restart of c. c is locked.
func restartDelay(c *container.Container) time.Duration {
	if c.State.FinishedAt.Sub(c.State.StartedAt) >= resetAfter {
		return minRestartDelay
	}
	delay := minRestartDelay
	for i := 0; i < c.RestartCount && delay < maxRestartDelay; i++ {
		delay *= 2
	}
	return min(delay, maxRestartDelay)
}

// scheduleRestart starts c again after its back-off, unless it was stopped
// or removed in the meantime.
func (d *Daemon) scheduleRestart(c *container.Container, delay time.Duration) {
	time.AfterFunc(delay, func() {
		c.Lock()
		defer c.Unlock()
		if c.State.Status != containertypes.StateRestarting || c.ManuallyStopped {
			return
		}
		if _, err := d.containers.Get(c.ID); err != nil {
			return
		}
		c.RestartCount++
		if err := d.start(context.Background(), c); err != nil {
			d.log.Error("restart container", "id", c.ID, "err", err)
			_ = c.State.SetExited(c.State.ExitCode, time.Now().UTC(), false)
			_ = c.Save(d.containerDataDir(c.ID))
			d.notify(c.ID)
		}
	})
}

// startOnBoot starts the containers whose policy says they should run
// whenever the daemon does.
func (d *Daemon) startOnBoot(ctx context.Context) {
	for _, c := range d.containers.List() {
		c.Lock()
		p := c.HostConfig.RestartPolicy.Name
		run := c.State.Status == containertypes.StateExited &&
			(p == containertypes.RestartPolicyAlways || (p == containertypes.RestartPolicyUnlessStopped && !c.ManuallyStopped))
		if run {
			c.ManuallyStopped = false
			if err := d.start(ctx, c); err != nil {
				d.log.Error("start container on boot", "id", c.ID, "err", err)
			}
		}
		c.Unlock()
	}
}
