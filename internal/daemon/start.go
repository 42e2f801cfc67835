package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/atomicfile"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/snapshot"
)

// task is a container's live shim as seen by the daemon.
type task struct {
	shim   *shim.Client
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed once the exit has been recorded
}

// ContainerStart starts a created or stopped container.
func (d *Daemon) ContainerStart(ctx context.Context, name string, detachKeys string) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	c.Lock()
	defer c.Unlock()
	switch c.State.Status {
	case containertypes.StateRunning:
		return errdefs.ErrNotModified.WithMessage("container already started")
	case containertypes.StatePaused:
		return errdefs.ErrConflict.WithMessage("cannot start a paused container, try unpause instead")
	case containertypes.StateRemoving, containertypes.StateDead:
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is marked for removal and cannot be started", c.ID))
	}
	if err := d.start(ctx, c); err != nil {
		if c.HostConfig.AutoRemove {
			// like docker, --rm also covers a container that could not start
			if rmErr := d.remove(context.WithoutCancel(ctx), c); rmErr != nil {
				d.log.Error("auto-remove container", "id", c.ID, "err", rmErr)
			}
		}
		return err
	}
	return nil
}

// start runs the sequence that turns a container record into a running
// process: mount the rootfs, write the bundle, start the shim, connect the
// attaches waiting for it, then let the process run. c is locked.
func (d *Daemon) start(ctx context.Context, c *container.Container) (retErr error) {
	began := time.Now()
	d.shimGone(c.ID) // the previous run's shim must be done with the bundle
	bundle := d.containerStateDir(c.ID)
	rootfs := filepath.Join(bundle, "rootfs")
	defer func() {
		if retErr != nil {
			d.teardownNetworking(context.WithoutCancel(ctx), c.ID)
			d.cleanupBundle(c.ID)
			c.State.Error = retErr.Error()
			c.State.ExitCode = startErrorExitCode(retErr)
			_ = c.Save(d.containerDataDir(c.ID))
		}
	}()
	if err := os.MkdirAll(rootfs, 0o700); err != nil {
		return fmt.Errorf("create bundle: %w", err)
	}
	mnt, err := d.images.PrepareRootfs(ctx, c.ImageID, c.ID)
	if err != nil {
		return fmt.Errorf("prepare rootfs: %w", err)
	}
	if err := mnt.MountAt(rootfs); err != nil {
		return fmt.Errorf("mount rootfs: %w", err)
	}
	netns, err := d.setupNetworking(ctx, c)
	if err != nil {
		return err
	}
	if err := d.writeEtcFiles(ctx, c); err != nil {
		return err
	}
	spec, err := d.spec(c, rootfs, netns)
	if err != nil {
		return err
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encode OCI spec: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("write OCI spec: %w", err)
	}
	// The process runs as the shim starts it (one runtime invocation); the
	// attaches waiting for this start get the output from its first byte,
	// which the shim holds for them until they are connected.
	hold := d.hasPendingAttaches(c.ID)
	client, err := shim.Start(ctx, d.cfg.ShimBinary, shim.Config{
		ID:          c.ID,
		Bundle:      bundle,
		StateDir:    bundle,
		Runtime:     d.cfg.Runtime,
		RuntimeRoot: d.runtimeRoot(),
		LogPath:     c.LogPath,
		Tty:         c.Config.Tty,
		OpenStdin:   c.Config.OpenStdin,
		StdinOnce:   c.Config.StdinOnce,
		StartNow:    true,
		HoldOutput:  hold,
	})
	if err != nil {
		if _, ok := errors.AsType[*runtime.ExecError](err); ok {
			return fmt.Errorf("failed to create task for container: %w", err) // dockerd: 400
		}
		return errdefs.ErrUnknown.WithMessage(fmt.Sprintf("failed to create task for container: %v", err))
	}
	created := time.Now()
	t := d.track(c.ID, client)
	d.connectPendingAttaches(c.ID, client)
	if hold {
		if err := client.Release(ctx); err != nil {
			d.log.Warn("release held output", "id", c.ID, "err", err)
		}
	}
	c.State.Error = ""
	c.ManuallyStopped = false
	if err := c.State.SetRunning(client.Pid(), time.Now().UTC()); err != nil {
		return err
	}
	if err := c.Save(d.containerDataDir(c.ID)); err != nil {
		d.log.Error("save container state", "id", c.ID, "err", err)
	}
	d.notify(c.ID)
	go d.monitor(c, t)
	d.log.Debug("container started", "id", c.ID, "create", created.Sub(began), "total", time.Since(began))
	return nil
}

// spec builds the OCI runtime spec for c with its rootfs mounted at rootfs.
func (d *Daemon) spec(c *container.Container, rootfs, netns string) (*specs.Spec, error) {
	user, err := oci.ResolveUser(rootfs, c.Config.User)
	if err != nil {
		return nil, err
	}
	links, err := d.linkedEnv(c)
	if err != nil {
		return nil, err
	}
	cwd := c.Config.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	return oci.Spec(oci.Options{
		ID:          c.ID,
		Rootfs:      rootfs,
		Args:        append([]string{c.Path}, c.Args...),
		Env:         append(links, c.Config.Env...), // docker puts the link variables first
		Cwd:         cwd,
		User:        user,
		Terminal:    c.Config.Tty,
		Hostname:    c.Config.Hostname,
		HostConfig:  c.HostConfig,
		NetNSPath:   netns,
		ExtraMounts: etcMounts(c),
		CgroupsPath: "/berth/" + c.ID,
	})
}

// etcMounts binds the generated /etc files over the image's.
func etcMounts(c *container.Container) []specs.Mount {
	bind := func(src, dst string) specs.Mount {
		opts := []string{"rbind", "rprivate"}
		if c.HostConfig.ReadonlyRootfs {
			opts = append(opts, "ro")
		}
		return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
	}
	return []specs.Mount{
		bind(c.ResolvConfPath, "/etc/resolv.conf"),
		bind(c.HostnamePath, "/etc/hostname"),
		bind(c.HostsPath, "/etc/hosts"),
	}
}

// track registers a live shim for c.
func (d *Daemon) track(id string, client *shim.Client) *task {
	ctx, cancel := context.WithCancel(context.Background())
	t := &task{shim: client, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	d.mu.Lock()
	d.running[id] = t
	d.mu.Unlock()
	return t
}

// task returns c's live shim, or nil when it is not running.
func (d *Daemon) task(id string) *task {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running[id]
}

// monitor waits for the container's exit and records it.
func (d *Daemon) monitor(c *container.Container, t *task) {
	st, err := t.shim.Wait(t.ctx)
	if t.ctx.Err() != nil {
		return // the daemon is shutting down: the shim keeps the container
	}
	if err != nil {
		d.log.Error("lost contact with shim", "id", c.ID, "err", err)
		st = shim.ExitStatus{Code: 255, ExitedAt: time.Now().UTC()}
		if saved, ok, _ := shim.ReadExitStatus(d.containerStateDir(c.ID)); ok {
			st = saved
		}
	}
	d.exited(c, t, st)
}

// exited records an exit, releases the container's runtime resources and
// applies --rm.
func (d *Daemon) exited(c *container.Container, t *task, st shim.ExitStatus) {
	ctx := context.Background()
	c.Lock()
	restart := shouldRestart(c, st.Code)
	if restart {
		if err := c.State.SetRestarting(st.Code, st.ExitedAt); err != nil {
			d.log.Warn("record exit", "id", c.ID, "err", err)
		}
	} else if err := c.State.SetExited(st.Code, st.ExitedAt, st.OOMKilled); err != nil {
		d.log.Warn("record exit", "id", c.ID, "err", err)
	}
	if err := c.Save(d.containerDataDir(c.ID)); err != nil {
		d.log.Error("save container state", "id", c.ID, "err", err)
	}
	delay := restartDelay(c)
	c.Unlock()
	if t != nil {
		d.releaseShim(c.ID, t)
	} else {
		d.teardownNetworking(ctx, c.ID)
	}
	d.notify(c.ID)
	if restart {
		d.scheduleRestart(c, delay)
		return
	}
	if c.HostConfig.AutoRemove {
		if err := d.ContainerRemove(ctx, c.ID, false, true, false); err != nil && !errdefs.IsNotFound(err) {
			d.log.Error("auto-remove container", "id", c.ID, "err", err)
		}
	}
}

// releaseShim lets the shim of an exited container delete it from the
// runtime and go, then removes the bundle. Waiters learn of the exit without
// waiting for this: start and remove wait for it through shimGone.
func (d *Daemon) releaseShim(id string, t *task) {
	gone := make(chan struct{})
	d.mu.Lock()
	delete(d.running, id)
	d.stopping[id] = gone
	d.mu.Unlock()
	close(t.done)
	go func() {
		if err := t.shim.Shutdown(context.Background()); err != nil {
			d.log.Debug("shim shutdown", "id", id, "err", err)
		}
		_ = t.shim.Close()
		d.teardownNetworking(context.Background(), id)
		d.removeBundle(id)
		d.mu.Lock()
		delete(d.stopping, id)
		d.mu.Unlock()
		close(gone)
	}()
}

// shimGone waits until the shim of a container that just exited has
// finished, so that its bundle can be reused or removed.
func (d *Daemon) shimGone(id string) {
	d.mu.Lock()
	gone, ok := d.stopping[id]
	d.mu.Unlock()
	if ok {
		<-gone
	}
}

// cleanupBundle unmounts the rootfs and removes the runtime state of a
// container that no longer runs. Best effort and idempotent.
func (d *Daemon) cleanupBundle(id string) {
	d.shimGone(id)
	d.removeBundle(id)
}

func (d *Daemon) removeBundle(id string) {
	bundle := d.containerStateDir(id)
	if err := snapshot.Unmount(filepath.Join(bundle, "rootfs")); err != nil {
		d.log.Warn("unmount rootfs", "id", id, "err", err)
		return // never remove a folder that may still hold a mounted rootfs
	}
	if err := os.RemoveAll(bundle); err != nil {
		d.log.Warn("remove bundle", "id", id, "err", err)
	}
}
