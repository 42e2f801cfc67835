package daemon

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
)

// ContainerInspect returns docker's inspect document for a container.
func (d *Daemon) ContainerInspect(ctx context.Context, name string, size bool) (*containertypes.InspectResponse, error) {
	c, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	c.Lock()
	resp := c.Inspect()
	c.Unlock()
	if resp.NetworkSettings != nil {
		d.networkSettings(c.ID, resp.NetworkSettings)
	}
	if size {
		rw := d.rwSize(c.ID)
		resp.SizeRw = &rw
		if img, err := d.images.Get(ctx, c.ImageID); err == nil {
			total := img.Size + rw
			resp.SizeRootFs = &total
		}
	}
	return resp, nil
}

// ContainerRename gives a container a new name.
func (d *Daemon) ContainerRename(ctx context.Context, name, newName string) error {
	if newName == "" || strings.TrimPrefix(newName, "/") == "" {
		return errdefs.ErrInvalidArgument.WithMessage("Neither old nor new names may be empty")
	}
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	c.Lock()
	defer c.Unlock()
	if strings.TrimPrefix(c.Name, "/") == strings.TrimPrefix(newName, "/") {
		return errdefs.ErrInvalidArgument.WithMessage("Renaming a container with the same name as its current name")
	}
	old := c.Name
	if err := d.containers.Rename(c.ID, newName); err != nil {
		return err
	}
	if err := c.Save(d.containerDataDir(c.ID)); err != nil {
		_ = d.containers.Rename(c.ID, old)
		return fmt.Errorf("save renamed container: %w", err)
	}
	return nil
}

// ContainerResize changes the size of a container's TTY.
func (d *Daemon) ContainerResize(ctx context.Context, name string, height, width uint) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	t := d.task(c.ID)
	if t == nil {
		return errNotRunning(c.ID)
	}
	if !c.Config.Tty {
		return nil
	}
	return t.Shim().Resize(ctx, uint16(width), uint16(height))
}
