package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	buildtypes "github.com/moby/moby/api/types/build"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	volumetypes "github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/volume"
)

// SystemDiskUsage answers GET /system/df: images with the size they share
// with others and the count of containers using each, containers with the
// size of their rw layer, volumes with their size and reference count,
// and the build cache's records (none, without starting it, when the
// engine's BuildKit never ran).
func (d *Daemon) SystemDiskUsage(ctx context.Context, opts backend.DiskUsageOptions) (*backend.DiskUsage, error) {
	if !opts.Containers && !opts.Images && !opts.Volumes && !opts.BuildCache {
		opts = backend.DiskUsageOptions{Containers: true, Images: true, Volumes: true, BuildCache: true}
	}
	du := &backend.DiskUsage{}
	if opts.Images {
		layers, shared, err := d.images.DiskUsage(ctx)
		if err != nil {
			return nil, err
		}
		imgs, err := d.images.List(ctx, false, nil)
		if err != nil {
			return nil, err
		}
		users := map[string]int64{}
		for _, c := range d.containers.List() {
			c.Lock()
			users[c.ImageID]++
			c.Unlock()
		}
		du.LayersSize = layers
		for i := range imgs {
			imgs[i].SharedSize = shared[imgs[i].ID]
			imgs[i].Containers = users[imgs[i].ID]
		}
		du.Images = imgs
	}
	if opts.Containers {
		rows, err := d.ContainerList(ctx, backend.ContainerListOptions{All: true, Size: true})
		if err != nil {
			return nil, err
		}
		du.Containers = rows
	}
	if opts.Volumes {
		used := d.volumesInUse()
		du.Volumes = []volumetypes.Volume{}
		for _, v := range d.volumes.List() {
			apiV := apiVolume(v)
			apiV.UsageData = &volumetypes.UsageData{Size: volume.DirSize(v.Mountpoint), RefCount: int64(len(used[v.Name]))}
			du.Volumes = append(du.Volumes, *apiV)
		}
	}
	if opts.BuildCache {
		du.BuildCache = []buildtypes.CacheRecord{}
		if d.builds != nil {
			recs, err := d.builds.BuildCacheUsage(ctx)
			if err != nil {
				return nil, err
			}
			if recs != nil {
				du.BuildCache = recs
			}
		}
	}
	return du, nil
}

// ContainerPrune answers POST /containers/prune: it removes the containers
// that do not run (created, exited, dead), with docker's filters until,
// label and label!, and reports the size of the rw layers it removed.
// Volumes stay, as with docker.
func (d *Daemon) ContainerPrune(ctx context.Context, filters backend.Filters) (*containertypes.PruneReport, error) {
	var until time.Time
	for key, values := range filters {
		switch key {
		case "label", "label!":
		case "until":
			for _, v := range values {
				t, err := backend.ParseUntil(v)
				if err != nil {
					return nil, err
				}
				until = t
			}
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	report := &containertypes.PruneReport{ContainersDeleted: []string{}}
	for _, c := range d.containers.List() {
		c.Lock()
		status, created, labels := c.State.Status, c.Created, c.Config.Labels
		c.Unlock()
		switch status {
		case containertypes.StateRunning, containertypes.StatePaused, containertypes.StateRestarting, containertypes.StateRemoving:
			continue
		}
		if !until.IsZero() && !created.Before(until) || !filters.MatchPruneLabels(labels) {
			continue
		}
		size := d.rwSize(c.ID)
		if err := d.ContainerRemove(ctx, c.ID, false, false, false); err != nil {
			// started meanwhile, or removed by someone else: not pruned
			d.log.Debug("prune container", "id", c.ID, "err", err)
			continue
		}
		report.ContainersDeleted = append(report.ContainersDeleted, c.ID)
		report.SpaceReclaimed += uint64(size)
	}
	d.logPruneEvent(events.ContainerEventType, report.SpaceReclaimed)
	return report, nil
}
