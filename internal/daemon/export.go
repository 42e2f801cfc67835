package daemon

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/container"
)

// ContainerExport writes a tar of a container's root filesystem (without
// its volumes and mounts), running or not, as docker export.
func (d *Daemon) ContainerExport(ctx context.Context, name string, w io.Writer) error {
	return d.withFiles(ctx, name, false, func(c *container.Container, files ContainerFiles, _ string) error {
		rc, err := files.Export()
		if err != nil {
			return err
		}
		defer rc.Close()
		d.logContainerEvent(c, events.ActionExport, nil)
		_, err = io.Copy(w, rc)
		return err
	})
}
