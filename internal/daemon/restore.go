package daemon

import (
	"context"
	"os"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/quarantine"
)

// restore loads every container record, re-adopts the shims that survived
// the previous berthd and records the exits that happened while it was down.
func (d *Daemon) restore(ctx context.Context) error {
	d.emptyTrash()
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
			if errdefs.IsDataLoss(err) {
				// truncated or garbled: set aside, whole, and serve the rest
				dest, qerr := quarantine.Move(d.cfg.DataRoot, d.containerDataDir(id), time.Now())
				d.log.Error("unreadable container state quarantined", "id", id, "err", err, "moved-to", dest, "move-err", qerr)
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
			d.dropUnrecordedEndpoints(ctx, c)
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

// dropUnrecordedEndpoints disconnects a running container from the networks
// its record does not list: a network connect that a crash cut short after
// the endpoint was made, before the record said so. Left in place, the
// endpoint is invisible to inspect and makes the next identical connect
// fail ("endpoint with name ... already exists").
func (d *Daemon) dropUnrecordedEndpoints(ctx context.Context, c *container.Container) {
	d.netMu.Lock()
	m := d.net
	d.netMu.Unlock()
	if m == nil {
		return
	}
	recorded := map[string]bool{}
	for _, name := range endpointNetworks(c.HostConfig, c.NetworkingConfig) {
		if n, err := m.Get(name); err == nil {
			recorded[n.ID] = true
		}
	}
	for _, ep := range m.Endpoints(c.ID) {
		if recorded[ep.NetworkID] {
			continue
		}
		d.log.Warn("disconnecting a network connect a crash cut short", "id", c.ID, "network", ep.NetworkName)
		if err := m.Disconnect(ctx, ep.NetworkID, c.ID); err != nil {
			d.log.Warn("disconnect", "id", c.ID, "network", ep.NetworkName, "err", err)
		}
	}
}
