package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/volume"
)

// ContainerList returns docker's ps rows, newest first.
func (d *Daemon) ContainerList(ctx context.Context, opts backend.ContainerListOptions) ([]containertypes.Summary, error) {
	match, err := d.containerFilter(opts.Filters)
	if err != nil {
		return nil, err
	}
	all := opts.All || opts.Limit > 0 || len(opts.Filters["status"]) > 0 || len(opts.Filters["exited"]) > 0
	rows := []containertypes.Summary{}
	for _, c := range d.containers.List() {
		v, unlock := listView(c)
		ok := (all || v.State.Status == containertypes.StateRunning || v.State.Status == containertypes.StatePaused) && match(v)
		var row containertypes.Summary
		if ok {
			row = v.Summary(v.Config.Image)
			row.Mounts = volume.MountPoints(mountSpecs(v), d.volumeFolder, d.anonymousVolume)
			d.networkSummaries(v, row.NetworkSettings)
		}
		unlock()
		if !ok {
			continue
		}
		if ports := d.portSummaries(c.ID); ports != nil {
			row.Ports = ports
		}
		if opts.Size {
			row.SizeRw = d.rwSize(c.ID)
			if img, err := d.images.Get(ctx, c.ImageID); err == nil {
				row.SizeRootFs = img.Size + row.SizeRw
			}
		}
		rows = append(rows, row)
		if opts.Limit > 0 && len(rows) == opts.Limit {
			break
		}
	}
	return rows, nil
}

// listView is the record of c that ps reads: c, locked, or its last saved
// copy while another holds its lock (a start holds it for the runtime's
// whole run, seconds on a busy host), as docker's ps reads its view of the
// last committed states instead of waiting.
func listView(c *container.Container) (*container.Container, func()) {
	if c.TryLock() {
		return c, c.Unlock
	}
	if s := c.Saved(); s != nil {
		return s, func() {}
	}
	c.Lock()
	return c, c.Unlock
}

// rwSize is the size of what a container wrote to its rw layer.
func (d *Daemon) rwSize(id string) int64 {
	return volume.DirSize(filepath.Join(d.containerDataDir(id), "rw", "upper"))
}

// containerFilter compiles ps's --filter into a predicate, with docker's keys.
func (d *Daemon) containerFilter(f backend.Filters) (func(*container.Container) bool, error) {
	var preds []func(*container.Container) bool
	for key, values := range f {
		if len(values) == 0 {
			continue
		}
		var pred func(*container.Container, string) bool
		switch key {
		case "id":
			pred = func(c *container.Container, v string) bool { return strings.HasPrefix(c.ID, v) }
		case "name":
			pred = func(c *container.Container, v string) bool {
				return strings.Contains(strings.TrimPrefix(c.Name, "/"), strings.TrimPrefix(v, "/"))
			}
		case "label":
			// every label filter must match, unlike the other keys' values
			preds = append(preds, func(c *container.Container) bool { return f.MatchLabels(key, c.Config.Labels) })
			continue
		case "status":
			for _, v := range values {
				switch containertypes.ContainerState(v) {
				case containertypes.StateCreated, containertypes.StateRunning, containertypes.StatePaused,
					containertypes.StateRestarting, containertypes.StateRemoving, containertypes.StateExited, containertypes.StateDead:
				default:
					return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter 'status=%s'", v))
				}
			}
			pred = func(c *container.Container, v string) bool { return string(c.State.Status) == v }
		case "exited":
			pred = func(c *container.Container, v string) bool {
				n, err := strconv.Atoi(v)
				return err == nil && c.State.Status == containertypes.StateExited && c.State.ExitCode == n
			}
		case "ancestor":
			pred = func(c *container.Container, v string) bool {
				if c.Config.Image == v {
					return true
				}
				img, err := d.images.Get(context.Background(), v)
				return err == nil && img.ID == c.ImageID
			}
		case "before", "since":
			ref, err := d.lookup(values[0])
			if err != nil {
				return nil, err
			}
			after := key == "since"
			created := ref.Created
			pred = func(c *container.Container, _ string) bool {
				if after {
					return c.Created.After(created)
				}
				return c.Created.Before(created)
			}
		case "health":
			for _, v := range values {
				if err := containertypes.ValidateHealthStatus(containertypes.HealthStatus(v)); err != nil {
					return nil, errdefs.ErrInvalidArgument.WithMessage(err.Error())
				}
			}
			pred = func(c *container.Container, v string) bool { return string(c.State.HealthStatus()) == v }
		case "network":
			pred = func(c *container.Container, v string) bool { return string(c.HostConfig.NetworkMode) == v }
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
		vals := values
		preds = append(preds, func(c *container.Container) bool {
			for _, v := range vals {
				if pred(c, v) {
					return true
				}
			}
			return false
		})
	}
	return func(c *container.Container) bool {
		for _, p := range preds {
			if !p(c) {
				return false
			}
		}
		return true
	}, nil
}
