package tasks

import (
	"context"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
)

// Restart delays double from 100ms up to a minute, like docker's; a
// container that ran for 10s or more starts again at the shortest delay.
const (
	MinRestartDelay = 100 * time.Millisecond
	MaxRestartDelay = time.Minute
	resetAfter      = 10 * time.Second
)

// ShouldRestart applies a restart policy to an exit with code, after
// restarts restarts so far. A container the user stopped stays down.
func ShouldRestart(p containertypes.RestartPolicy, manuallyStopped bool, restarts, code int) bool {
	if manuallyStopped {
		return false
	}
	switch p.Name {
	case containertypes.RestartPolicyAlways, containertypes.RestartPolicyUnlessStopped:
		return true
	case containertypes.RestartPolicyOnFailure:
		return code != 0 && (p.MaximumRetryCount == 0 || restarts < p.MaximumRetryCount)
	}
	return false
}

// RestartDelay is the back-off before the next restart of a container that
// restarted restarts times and whose last run lasted ran.
func RestartDelay(restarts int, ran time.Duration) time.Duration {
	if ran >= resetAfter {
		return MinRestartDelay
	}
	delay := MinRestartDelay
	for i := 0; i < restarts && delay < MaxRestartDelay; i++ {
		delay *= 2
	}
	return min(delay, MaxRestartDelay)
}

// StartsOnBoot reports whether a container stopped when the daemon starts
// should run: "always" unconditionally (a manual stop lasts until the daemon
// restarts), "unless-stopped" unless the user stopped it.
func StartsOnBoot(p containertypes.RestartPolicy, manuallyStopped bool) bool {
	return p.Name == containertypes.RestartPolicyAlways ||
		(p.Name == containertypes.RestartPolicyUnlessStopped && !manuallyStopped)
}

type restartTimer struct{ timer *time.Timer }

// scheduleRestart starts c again after its back-off, unless it was stopped
// or removed in the meantime.
func (s *Supervisor) scheduleRestart(c *container.Container, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	rt := &restartTimer{}
	s.wg.Add(1) // done when the restart ran or was cancelled
	rt.timer = time.AfterFunc(delay, func() {
		defer s.wg.Done()
		s.mu.Lock()
		if s.timers[c.ID] == rt {
			delete(s.timers, c.ID)
		}
		s.mu.Unlock()
		c.Lock()
		defer c.Unlock()
		if c.State.Status != containertypes.StateRestarting || c.ManuallyStopped || !s.host.Exists(c.ID) {
			return
		}
		c.RestartCount++
		if err := s.Start(context.Background(), c); err != nil {
			s.log.Error("restart container", "id", c.ID, "err", err)
			_ = c.State.SetExited(c.State.ExitCode, time.Now().UTC(), false)
			s.host.Save(c)
			s.host.Changed(c)
		}
	})
	s.timers[c.ID] = rt
}

// StartOnBoot starts the stopped containers whose policy says they run
// whenever the daemon does.
func (s *Supervisor) StartOnBoot(ctx context.Context, containers []*container.Container) {
	for _, c := range containers {
		c.Lock()
		if c.State.Status == containertypes.StateExited && StartsOnBoot(c.HostConfig.RestartPolicy, c.ManuallyStopped) {
			c.ManuallyStopped = false
			if err := s.Start(ctx, c); err != nil {
				s.log.Error("start container on boot", "id", c.ID, "err", err)
			}
		}
		c.Unlock()
	}
}
