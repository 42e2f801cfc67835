package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/atomicfile"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/volume"
)

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
	if err := d.tasks.Start(ctx, c); err != nil {
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

// host is the daemon's side of a container's life under the supervisor.
type host struct{ d *Daemon }

// Prepare mounts the rootfs, sets up networking, writes the /etc files and
// the OCI bundle, and says how the shim runs it. c is locked.
func (h host) Prepare(ctx context.Context, c *container.Container) (shim.Config, error) {
	d := h.d
	bundle := d.containerStateDir(c.ID)
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.MkdirAll(rootfs, 0o700); err != nil {
		return shim.Config{}, fmt.Errorf("create bundle: %w", err)
	}
	if err := d.openBundle(c.HostConfig, bundle); err != nil {
		return shim.Config{}, err
	}
	mnt, err := d.images.PrepareRootfs(ctx, c.ImageID, c.ID)
	if err != nil {
		return shim.Config{}, fmt.Errorf("prepare rootfs: %w", err)
	}
	if err := d.mounter.Mount(mnt, rootfs); err != nil {
		return shim.Config{}, fmt.Errorf("mount rootfs: %w", err)
	}
	netns, err := d.setupNetworking(ctx, c)
	if err != nil {
		return shim.Config{}, err
	}
	if err := d.writeEtcFiles(ctx, c); err != nil {
		return shim.Config{}, err
	}
	specs := mountSpecs(c) // parsed once for the binds, volumes and their events
	if err := volume.PrepareBindSources(specs); err != nil {
		return shim.Config{}, err
	}
	vols := volumeSpecs(specs)
	volumePaths, err := d.prepareVolumes(c, rootfs, vols)
	if err != nil {
		return shim.Config{}, err
	}
	if err := d.mountShareableShm(c); err != nil {
		return shim.Config{}, err
	}
	d.logVolumeMounts(c, vols)
	spec, err := d.spec(c, rootfs, netns, volumePaths)
	if err != nil {
		return shim.Config{}, err
	}
	d.applyUserns(spec, c.HostConfig, netns, d.joinedUserns(c, netns))
	data, err := json.Marshal(spec)
	if err != nil {
		return shim.Config{}, fmt.Errorf("encode OCI spec: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return shim.Config{}, fmt.Errorf("write OCI spec: %w", err)
	}
	logPath, logCfg, err := d.shimLog(c)
	if err != nil {
		return shim.Config{}, err
	}
	return shim.Config{
		ID:          c.ID,
		Bundle:      bundle,
		StateDir:    bundle,
		Runtime:     d.cfg.Runtime,
		RuntimeRoot: d.runtimeRoot(),
		LogPath:     logPath,
		Log:         logCfg,
		Tty:         c.Config.Tty,
		OpenStdin:   c.Config.OpenStdin,
		StdinOnce:   c.Config.StdinOnce,
	}, nil
}

// StartFailed records why c could not start, with docker's exit code.
func (h host) StartFailed(c *container.Container, err error) {
	c.State.Error = err.Error()
	c.State.ExitCode = startErrorExitCode(err)
	h.Save(c)
}

// Release frees what Prepare set up: networking, the mounted rootfs and the
// bundle. Best effort and idempotent.
func (h host) Release(ctx context.Context, id string) {
	h.d.teardownNetworking(ctx, id)
	h.d.logVolumeUnmounts(id)
	h.d.removeBundle(id)
	if err := h.d.volumes.Release(id); err != nil {
		h.d.log.Warn("release volumes", "id", id, "err", err)
	}
}

func (h host) Save(c *container.Container) {
	if err := c.Save(h.d.containerDataDir(c.ID)); err != nil {
		h.d.log.Error("save container state", "id", c.ID, "err", err)
	}
}

func (h host) Changed(c *container.Container) {
	h.d.logStateEvents(c) // before the waiters wake: a client sees die before wait returns
	st := c.State
	h.d.notify(c.ID, &st)
}

func (h host) Exists(id string) bool {
	_, err := h.d.containers.Get(id)
	return err == nil
}

// KillOrphan kills and deletes from the runtime a container whose shim
// died (runtime delete --force sends SIGKILL to all its processes).
func (h host) KillOrphan(ctx context.Context, id string) (bool, error) {
	rt := runtime.Runtime{Path: h.d.cfg.Runtime, Root: h.d.runtimeRoot()}
	if _, err := rt.State(ctx, id); errdefs.IsNotFound(err) {
		return false, nil
	}
	return true, rt.Delete(ctx, id, true)
}

func (h host) AutoRemove(ctx context.Context, id string) {
	if err := h.d.ContainerRemove(ctx, id, false, true, false); err != nil && !errdefs.IsNotFound(err) {
		h.d.log.Error("auto-remove container", "id", id, "err", err)
	}
}

// spec builds the OCI runtime spec for c with its rootfs mounted at rootfs.
// volumePaths are the folders of the volumes c mounts, by name.
func (d *Daemon) spec(c *container.Container, rootfs, netns string, volumePaths map[string]string) (*specs.Spec, error) {
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
	shared, err := d.joinedNamespaces(c)
	if err != nil {
		return nil, err
	}
	initPath, err := d.initPath(c)
	if err != nil {
		return nil, err
	}
	if w := d.oomScoreAdjWarning(c.HostConfig.OomScoreAdj); w != "" {
		d.log.Warn(w, "id", c.ID)
	}
	return oci.Spec(oci.Options{
		ID:                c.ID,
		Rootfs:            rootfs,
		Args:              append([]string{c.Path}, c.Args...),
		Env:               append(links, c.Config.Env...), // docker puts the link variables first
		Cwd:               cwd,
		User:              user,
		Terminal:          c.Config.Tty,
		Hostname:          c.Config.Hostname,
		HostConfig:        c.HostConfig,
		NetNSPath:         netns,
		ExtraMounts:       etcMounts(c),
		VolumePaths:       volumePaths,
		VolumesFromMounts: c.VolumesFromMounts,
		SourcePropagation: volume.SourcePropagation,
		IpcNSPath:         shared.ipc,
		PidNSPath:         shared.pid,
		ShmPath:           shared.shm,
		InitPath:          initPath,
		CgroupsPath:       cgroupsPath(c),
		NoNewPrivileges:   d.cfg.NoNewPrivileges,
		Host:              &d.host, // detected once, when the daemon started
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

func (d *Daemon) removeBundle(id string) {
	bundle := d.containerStateDir(id)
	if err := d.mounter.Unmount(filepath.Join(bundle, "rootfs")); err != nil {
		d.log.Warn("unmount rootfs", "id", id, "err", err)
		return // never remove a folder that may still hold a mounted rootfs
	}
	if err := d.mounter.Unmount(d.usernsPath(id)); err != nil {
		d.log.Warn("unmount user namespace", "id", id, "err", err)
		return
	}
	if err := d.mounter.Unmount(d.shmDir(id)); err != nil {
		d.log.Warn("unmount shareable /dev/shm", "id", id, "err", err)
		return
	}
	if err := os.RemoveAll(bundle); err != nil {
		d.log.Warn("remove bundle", "id", id, "err", err)
	}
}
