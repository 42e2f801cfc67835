package tasks

import (
	"context"
	"fmt"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
)

// Pause freezes c's processes (docker pause), with dockerd's conflicts for
// a container that is not running, already paused or restarting.
func (s *Supervisor) Pause(ctx context.Context, c *container.Container) error {
	c.Lock()
	defer c.Unlock()
	switch c.State.Status {
	case containertypes.StateRunning:
	case containertypes.StatePaused:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is already paused", c.ID))
	case containertypes.StateRestarting:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is restarting, wait until the container is running", c.ID))
	default:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not running", c.ID))
	}
	t := s.Get(c.ID)
	if t == nil {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not running", c.ID))
	}
	if err := t.shim.Pause(ctx); err != nil {
		return fmt.Errorf("cannot pause container %s: %w", c.ID, err)
	}
	if err := c.State.SetPaused(); err != nil {
		return err
	}
	s.host.Save(c)
	s.host.Changed(c)
	return nil
}

// Unpause thaws c's processes (docker unpause); a container that is not
// paused is dockerd's conflict.
func (s *Supervisor) Unpause(ctx context.Context, c *container.Container) error {
	c.Lock()
	defer c.Unlock()
	t := s.Get(c.ID)
	if c.State.Status != containertypes.StatePaused || t == nil {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not paused", c.ID))
	}
	if err := t.shim.Resume(ctx); err != nil {
		return fmt.Errorf("cannot unpause container %s: %w", c.ID, err)
	}
	if err := c.State.SetUnpaused(); err != nil {
		return err
	}
	s.host.Save(c)
	s.host.Changed(c)
	return nil
}

// thawed records that a signal sent to c thawed it, if it was paused: the
// shim resumes a container it signals, as dockerd does.
func (s *Supervisor) thawed(c *container.Container) {
	c.Lock()
	defer c.Unlock()
	if c.State.Status != containertypes.StatePaused {
		return
	}
	if err := c.State.SetUnpaused(); err == nil {
		s.host.Save(c)
		s.host.Changed(c)
	}
}

// Update applies resources (runtime-spec LinuxResources, JSON) to id's
// running container; a container that does not run is left alone (its
// record carries the new limits to its next start).
func (s *Supervisor) Update(ctx context.Context, id string, resources []byte) error {
	t := s.Get(id)
	if t == nil {
		return nil
	}
	if err := t.shim.Update(ctx, resources); err != nil && !errdefs.IsNotFound(err) {
		return err
	}
	return nil
}
