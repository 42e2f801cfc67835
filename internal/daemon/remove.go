package daemon

import (
	"context"
	"errors"
	"fmt"
	"github.com/moby/moby/api/types/events"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/trace"
)

// ContainerRemove deletes a container, killing it first when forced.
// With removeLinks, name is a legacy link, /<container>/<alias>, and only
// the link goes.
func (d *Daemon) ContainerRemove(ctx context.Context, name string, force, removeVolumes, removeLinks bool) error {
	if removeLinks {
		return d.removeLink(name)
	}
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	c.Lock()
	status := c.State.Status
	c.Unlock()
	if status == containertypes.StateRunning || status == containertypes.StateRestarting || status == containertypes.StatePaused {
		if !force {
			return errdefs.ErrConflict.WithMessage(fmt.Sprintf("cannot remove container %q: container is %s: stop the container before removing or force remove", c.Name, status))
		}
		d.tasks.MarkStopped(c) // so that the restart policy does not bring it back
		if d.task(c.ID) != nil {
			d.lockAndLogContainerEvent(c, events.ActionKill, map[string]string{"signal": strconv.Itoa(int(syscall.SIGKILL))})
		}
	}
	if err := d.tasks.KillAndWait(ctx, c.ID); err != nil {
		return fmt.Errorf("cannot remove container %q: could not kill: %w", c.Name, err)
	}
	// remove runs entirely under the container's lock: once we hold it the
	// container is either still there or already gone (e.g. by --rm).
	c.Lock()
	vols := containerVolumes(c)
	removed, err := func() (bool, error) {
		defer c.Unlock()
		if _, err := d.containers.Get(c.ID); err != nil {
			return false, nil
		}
		if c.State.Status == containertypes.StateRemoving {
			return false, errdefs.ErrConflict.WithMessage(fmt.Sprintf("removal of container %s is already in progress", c.ID))
		}
		return true, d.remove(ctx, c)
	}()
	// the volumes go once c is unlocked: finding who else uses them locks
	// every other container
	if removed && err == nil && removeVolumes {
		d.removeAnonymousVolumes(vols)
	}
	return err
}

// remove deletes a stopped container's record, rw layer and files. The
// record file goes first, so a crash midway leaves only garbage that restore
// collects. c is locked.
func (d *Daemon) remove(ctx context.Context, c *container.Container) error {
	if err := c.State.SetRemoving(); err != nil {
		return err
	}
	tr, step := trace.From(ctx), time.Now()
	dataDir := d.containerDataDir(c.ID)
	if err := os.Remove(filepath.Join(dataDir, "config.json")); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove container record: %w", err)
	}
	tr.Step("remove record", step)
	step = time.Now()
	// the files go before the record leaves the store, so that whoever
	// waits for the removal (run --rm) finds nothing left behind
	err := d.removeFilesOf(ctx, c.ID, d.imageExists(ctx, c.ImageID))
	tr.Step("remove files (bundle, rw layer, folder)", step)
	d.containers.Delete(c.ID)
	d.containers.ReleaseName(c.Name)
	d.logDestroy(c)
	d.notify(c.ID, nil)
	return err
}

// removeFiles deletes what a removed container leaves on disk. Best effort,
// idempotent.
func (d *Daemon) removeFiles(ctx context.Context, id string) error {
	return d.removeFilesOf(ctx, id, false)
}

// removeFilesOf is removeFiles; with toTrash, the container's folder (its rw
// layer inside) is renamed into the trash and deleted there in the
// background: a rw layer's deletion is the longest step of a run --rm's
// removal, and whoever waits for the removal only needs the folder gone
// from the containers. Only for a container whose image still exists: its
// layers stay, so nothing is left for RemoveRootfs to collect.
func (d *Daemon) removeFilesOf(ctx context.Context, id string, toTrash bool) error {
	// No need to wait for the shim of a container that just exited: its
	// runtime delete touches none of these files, and a removed container's
	// id is never started again.
	tr, step := trace.From(ctx), time.Now()
	d.removeBundle(id)
	tr.Step("remove bundle (unmount)", step)
	step = time.Now()
	d.teardownNetworking(ctx, id)
	d.logVolumeUnmounts(id)
	tr.Step("remove networking", step)
	step = time.Now()
	if toTrash && d.bundleGone(id) && d.moveToTrash(id) {
		tr.Step("remove folder (into the trash)", step)
		// the rw layer left with the folder: the store has nothing left
		// to delete, nor to collect (the image holds the layers)
		return d.images.RemoveRootfs(ctx, id)
	}
	rootfsErr := d.images.RemoveRootfs(ctx, id)
	tr.Step("remove rw layer", step)
	step = time.Now()
	dirErr := os.RemoveAll(d.containerDataDir(id))
	tr.Step("remove folder", step)
	return errors.Join(rootfsErr, dirErr)
}

// removeLink is `rm --link /<container>/<alias>`: the container forgets its
// legacy link; the linked container is left alone, as in docker.
func (d *Daemon) removeLink(name string) error {
	full := "/" + strings.TrimPrefix(name, "/")
	parentName, alias := path.Split(full)
	if parentName == "/" {
		return errdefs.ErrInvalidArgument.WithMessage("Conflict, cannot remove the default link name of the container")
	}
	parent, err := d.lookup(strings.TrimSuffix(parentName, "/"))
	if err != nil {
		return fmt.Errorf("Cannot get parent %s for link name %s: %w", strings.TrimSuffix(parentName, "/"), full, err)
	}
	parent.Lock()
	defer parent.Unlock()
	for i, link := range parent.HostConfig.Links {
		if _, a := parseLink(link); a != alias {
			continue
		}
		old := parent.HostConfig.Links
		parent.HostConfig.Links = slices.Delete(slices.Clone(old), i, i+1)
		if err := parent.Save(d.containerDataDir(parent.ID)); err != nil {
			parent.HostConfig.Links = old
			return fmt.Errorf("remove link %s: %w", full, err)
		}
		return nil
	}
	return errdefs.ErrNotFound.WithMessage("No such container: " + full)
}

// trashDir holds the folders of removed containers until they are deleted,
// in the background (and at boot, for what a crash left there).
func (d *Daemon) trashDir() string { return filepath.Join(d.cfg.DataRoot, "trash") }

// moveToTrash renames the folder of container id into the trash and
// deletes it there in the background; false when it could not be moved (it
// is then removed in place).
func (d *Daemon) moveToTrash(id string) bool {
	dst := filepath.Join(d.trashDir(), id)
	if err := os.MkdirAll(d.trashDir(), 0o700); err != nil {
		return false
	}
	if err := os.Rename(d.containerDataDir(id), dst); err != nil {
		return false
	}
	go d.deleteTrash(dst)
	return true
}

// bundleGone reports whether the bundle of id was removed, its rootfs
// unmounted: only then may its rw layer be moved.
func (d *Daemon) bundleGone(id string) bool {
	_, err := os.Lstat(d.containerStateDir(id))
	return errors.Is(err, os.ErrNotExist)
}

// emptyTrash deletes, in the background, what the trash holds at boot.
func (d *Daemon) emptyTrash() {
	entries, _ := os.ReadDir(d.trashDir())
	for _, e := range entries {
		go d.deleteTrash(filepath.Join(d.trashDir(), e.Name()))
	}
}

func (d *Daemon) deleteTrash(path string) {
	if err := os.RemoveAll(path); err != nil {
		d.log.Warn("delete a removed container's folder", "path", path, "err", err)
	}
}

// imageExists reports whether the image id is still in the store.
func (d *Daemon) imageExists(ctx context.Context, id string) bool {
	if id == "" {
		return false
	}
	_, err := d.images.Get(ctx, id)
	return err == nil
}
