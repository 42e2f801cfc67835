package daemon

import (
	"context"
	"io"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/ctrfs"
	"github.com/berth-project/berth/internal/oci"
)

// ContainerStatPath describes a path in a container (HEAD
// /containers/{id}/archive).
func (d *Daemon) ContainerStatPath(ctx context.Context, name, path string) (st containertypes.PathStat, err error) {
	err = d.withFiles(ctx, name, true, func(c *container.Container, files ContainerFiles, root string) error {
		st, err = files.Stat(path, name)
		return err
	})
	return st, err
}

// ContainerArchivePath writes a tar of a path in a container to w once stat
// has been called with the path's description (GET
// /containers/{id}/archive).
func (d *Daemon) ContainerArchivePath(ctx context.Context, name, path string, stat func(containertypes.PathStat) error, w io.Writer) error {
	return d.withFiles(ctx, name, true, func(c *container.Container, files ContainerFiles, root string) error {
		rc, st, err := files.Archive(path, name)
		if err != nil {
			return err
		}
		defer rc.Close()
		if err := stat(st); err != nil {
			return err
		}
		d.logContainerEvent(c, events.ActionArchivePath, nil)
		_, err = io.Copy(w, rc)
		return err
	})
}

// ContainerExtractToDir unpacks a tar into a directory of a container (PUT
// /containers/{id}/archive). As dockerd, it keeps the archive's owners,
// unless copyUIDGID asks for the container's user (when it has one).
func (d *Daemon) ContainerExtractToDir(ctx context.Context, name, path string, copyUIDGID, noOverwriteDirNonDir bool, r io.Reader) error {
	return d.withFiles(ctx, name, true, func(c *container.Container, files ContainerFiles, root string) error {
		opts := ctrfs.ExtractOptions{NoOverwriteDirNonDir: noOverwriteDirNonDir}
		if copyUIDGID && c.Config.User != "" {
			u, err := oci.ResolveUser(root, c.Config.User)
			if err != nil {
				return err
			}
			opts.Chown, opts.UID, opts.GID = true, int(u.UID), int(u.GID)
		}
		if err := files.Extract(path, name, r, opts); err != nil {
			return err
		}
		d.logContainerEvent(c, events.ActionExtractToDir, nil)
		return nil
	})
}
