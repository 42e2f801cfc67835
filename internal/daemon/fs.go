package daemon

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/ctrfs"
)

// ContainerFiles reads and writes one container's files with paths
// resolved inside it (*ctrfs.FS).
type ContainerFiles interface {
	Stat(path, name string) (containertypes.PathStat, error)
	Archive(path, name string) (io.ReadCloser, containertypes.PathStat, error)
	Extract(path, name string, r io.Reader, opts ctrfs.ExtractOptions) error
	// Export tars the whole root folder.
	Export() (io.ReadCloser, error)
}

// runtimeMountPoints are the paths of a container's rw layer that the
// runtime, not the container, creates as mount points when the image lacks
// them; docker keeps them in an init layer that diff and commit never show.
var runtimeMountPoints = []string{"/dev", "/proc", "/sys", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv", "/sbin/docker-init"}

// kernelFilesystems are the folders of a running container that the
// runtime mounts kernel filesystems on: copies leave their content out, as
// docker's view of a container's files never holds it.
var kernelFilesystems = []string{"/proc", "/sys", "/dev"}

// withFiles runs fn on c's files. A running container's are reached through
// its process's root, which shows its volumes and mounts as it does (live
// is false for export, which takes the root filesystem alone); a stopped
// container's root filesystem is mounted, c held locked, for the time of
// fn, with its volumes and binds mapped to their folders.
func (d *Daemon) withFiles(ctx context.Context, name string, live bool, fn func(c *container.Container, files ContainerFiles, root string) error) error {
	if d.openFiles == nil {
		return errdefs.ErrNotImplemented.WithMessage("container file access is not configured")
	}
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	c.Lock()
	running := c.State.Status == containertypes.StateRunning || c.State.Status == containertypes.StatePaused
	pid := c.State.Pid
	readOnly := c.HostConfig != nil && c.HostConfig.ReadonlyRootfs
	specs := mountSpecs(c)
	if running && pid > 0 {
		c.Unlock()
		if !live {
			root := filepath.Join(d.containerStateDir(c.ID), "rootfs")
			return fn(c, d.openFiles(ctrfs.FS{Root: root}), root)
		}
		// the process's root shows the mounts: they only say what is
		// read-only
		spec := ctrfs.FS{Root: filepath.Join("/proc", strconv.Itoa(pid), "root"), ReadOnlyRoot: readOnly, Hide: kernelFilesystems}
		for _, m := range specs {
			spec.Mounts = append(spec.Mounts, ctrfs.Mount{Destination: m.Target, ReadOnly: m.ReadOnly})
		}
		return fn(c, d.openFiles(spec), spec.Root)
	}
	defer c.Unlock()
	root, release, err := d.mountStopped(ctx, c)
	if err != nil {
		return err
	}
	defer release()
	spec := ctrfs.FS{Root: root, ReadOnlyRoot: readOnly}
	if live {
		for _, m := range specs {
			src := m.Source
			switch m.Type {
			case mount.TypeVolume:
				src = d.volumeFolder(m.Source)
			case mount.TypeBind:
			default:
				continue
			}
			if src != "" {
				spec.Mounts = append(spec.Mounts, ctrfs.Mount{Destination: m.Target, Source: src, ReadOnly: m.ReadOnly})
			}
		}
		// the /etc files the daemon writes and binds, as a running
		// container shows them
		for dst, src := range map[string]string{"/etc/hosts": c.HostsPath, "/etc/hostname": c.HostnamePath, "/etc/resolv.conf": c.ResolvConfPath} {
			if src != "" {
				spec.Mounts = append(spec.Mounts, ctrfs.Mount{Destination: dst, Source: src})
			}
		}
	}
	return fn(c, d.openFiles(spec), root)
}

// mountStopped mounts the root filesystem of c, which does not run and is
// locked, where it is mounted when it runs; release unmounts it.
func (d *Daemon) mountStopped(ctx context.Context, c *container.Container) (string, func(), error) {
	// a container that just exited may still have its bundle released in
	// the background, which would unmount or delete what is mounted here
	d.tasks.ShimGone(c.ID)
	rootfs := filepath.Join(d.containerStateDir(c.ID), "rootfs")
	if err := os.MkdirAll(rootfs, 0o700); err != nil {
		return "", nil, fmt.Errorf("create rootfs mount point: %w", err)
	}
	mnt, err := d.images.PrepareRootfs(ctx, c.ImageID, c.ID)
	if err == nil {
		err = d.mounter.Mount(mnt, rootfs)
	}
	if err != nil {
		d.removeBundle(c.ID)
		return "", nil, fmt.Errorf("mount rootfs: %w", err)
	}
	return rootfs, func() { d.removeBundle(c.ID) }, nil
}
