package tasks

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
)

// killWait bounds how long Kill waits for a SIGKILLed container's exit to
// be recorded.
const killWait = 5 * time.Second

// MarkStopped records that the user stopped c, so that its restart policy
// leaves it alone, and cancels a pending restart (a restarting container is
// exited from now on). It reports whether c was running or restarting.
func (s *Supervisor) MarkStopped(c *container.Container) bool {
	c.Lock()
	defer c.Unlock()
	switch c.State.Status {
	case containertypes.StateRestarting:
		c.ManuallyStopped = true
		_ = c.State.SetExited(c.State.ExitCode, c.State.FinishedAt, false)
		s.cancelRestart(c.ID)
	case containertypes.StateRunning, containertypes.StatePaused:
		c.ManuallyStopped = true
	default:
		return false
	}
	s.host.Save(c)
	s.host.Changed(c)
	return true
}

func (s *Supervisor) cancelRestart(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancelRestartLocked(id)
}

func (s *Supervisor) cancelRestartLocked(id string) {
	if rt, ok := s.timers[id]; ok {
		if rt.timer.Stop() {
			s.wg.Done() // the restart will not run
		}
		delete(s.timers, id)
	}
}

// Stop sends sig to id's process, waits up to grace for its exit (forever
// when grace is negative), then kills it. A container that does not run is
// left alone.
func (s *Supervisor) Stop(ctx context.Context, id string, sig syscall.Signal, grace time.Duration) error {
	t := s.Get(id)
	if t == nil {
		return nil
	}
	if err := t.shim.Kill(ctx, sig); err != nil && !errdefs.IsNotFound(err) {
		s.log.Debug("stop signal", "id", id, "err", err)
	}
	var timeout <-chan time.Time
	if grace >= 0 {
		timer := time.NewTimer(grace)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case <-t.done:
		return nil
	case <-timeout:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.killAndWait(ctx, t)
}

// KillAndWait kills id's process, if it runs, and waits for its exit to be
// recorded.
func (s *Supervisor) KillAndWait(ctx context.Context, id string) error {
	t := s.Get(id)
	if t == nil {
		return nil
	}
	return s.killAndWait(ctx, t)
}

func (s *Supervisor) killAndWait(ctx context.Context, t *Task) error {
	if err := t.shim.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("kill container: %w", err)
	}
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Kill sends sig to c's process. The signals that end a process count as a
// manual stop for the restart policy, like docker's; after SIGKILL, Kill
// returns once the exit is recorded. A container that does not run is a
// conflict.
func (s *Supervisor) Kill(ctx context.Context, c *container.Container, sig syscall.Signal) error {
	t := s.Get(c.ID)
	if t == nil {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM || sig == syscall.SIGINT {
		s.MarkStopped(c)
	}
	if err := t.shim.Kill(ctx, sig); err != nil {
		return err
	}
	s.thawed(c)
	if sig == syscall.SIGKILL {
		select {
		case <-t.done:
		case <-time.After(killWait):
		case <-ctx.Done():
		}
	}
	return nil
}
