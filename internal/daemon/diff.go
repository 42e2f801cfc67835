package daemon

import (
	"context"

	containertypes "github.com/moby/moby/api/types/container"
)

// ContainerChanges lists what a container changed in its filesystem, as
// docker diff: read from its rw layer, running or not, leaving out the
// mount points the runtime made.
func (d *Daemon) ContainerChanges(ctx context.Context, name string) ([]containertypes.FilesystemChange, error) {
	c, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	return d.images.Changes(ctx, c.ID, runtimeMountPoints)
}
