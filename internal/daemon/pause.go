package daemon

import (
	"context"

	"github.com/moby/moby/api/types/events"
)

// ContainerPause freezes every process of the running container (docker
// pause): dockerd's 409s for a container that is not running, already
// paused or restarting.
func (d *Daemon) ContainerPause(ctx context.Context, name string) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	if err := d.tasks.Pause(ctx, c); err != nil {
		return err
	}
	d.logContainerEvent(c, events.ActionPause, nil)
	return nil
}

// ContainerUnpause thaws a paused container (docker unpause); one that is
// not paused is dockerd's 409.
func (d *Daemon) ContainerUnpause(ctx context.Context, name string) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	if err := d.tasks.Unpause(ctx, c); err != nil {
		return err
	}
	d.logContainerEvent(c, events.ActionUnPause, nil)
	return nil
}
