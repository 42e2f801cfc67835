package daemon

import (
	"context"
	"os"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
)

// restore loads every container record, re-adopts the shims that survived
// the previous berthd and records the exits that happened while it was down.
func (d *Daemon) restore(ctx context.Context) error {
	entries, err := os.ReadDir(containersDir(d.cfg.DataRoot))
	if err != nil {
		return err
	}
	var exited []*container.Container
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		id := e.Name()
		c, err := container.Load(d.containerDataDir(id))
		if err != nil {
			if os.IsNotExist(err) || errdefs.IsNotFound(err) {
				// created or removed halfway: nothing refers to it
				d.log.Info("removing incomplete container", "id", id)
				_ = d.removeFiles(ctx, id)
				continue
			}
			d.log.Error("cannot load container, skipping it", "id", id, "err", err)
			continue
		}
		if err := d.containers.ReserveName(c.Name, c.ID); err != nil {
			d.log.Error("container name clash", "id", id, "err", err)
			continue
		}
		d.containers.Add(c)
		switch c.State.Status {
		case containertypes.StateRunning, containertypes.StatePaused, containertypes.StateRestarting:
			d.holdVolumes(c)
			d.tasks.Adopt(ctx, c, d.containerStateDir(id))
		case containertypes.StateRemoving:
			c.State.Status = containertypes.StateExited
			exited = append(exited, c)
		default:
			// a start the crash cut short may have left its endpoints,
			// bundle or even its process
			d.tasks.Discard(ctx, id, d.containerStateDir(id))
		}
	}
	for _, c := range exited {
		c.Lock()
		err := d.remove(ctx, c)
		c.Unlock()
		if err != nil {
			d.log.Error("finish removal", "id", c.ID, "err", err)
		}
	}
	return nil
}
