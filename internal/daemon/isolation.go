package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/snapshot"
)

// adaptHostConfig fills in, at create, the defaults docker stores in a
// container's HostConfig (moby's adaptContainerSettings), so that inspect
// shows what the container runs with: the swap limit, /dev/shm's size, the
// masked and read-only paths, the IPC and cgroup namespace modes; --ipc and --pid container:<name> are
// recorded by id, so that a rename does not break them.
func (d *Daemon) adaptHostConfig(hc *containertypes.HostConfig) {
	oci.AdaptResources(&hc.Resources, d.host.Cgroups)
	if hc.ShmSize == 0 {
		hc.ShmSize = oci.DefaultShmSize
	}
	if !hc.Privileged && hc.MaskedPaths == nil {
		hc.MaskedPaths = slices.Clone(oci.DefaultMaskedPaths)
	}
	if !hc.Privileged && hc.ReadonlyPaths == nil {
		hc.ReadonlyPaths = slices.Clone(oci.DefaultReadonlyPaths)
	}
	if hc.IpcMode.IsEmpty() {
		hc.IpcMode = containertypes.IPCModePrivate
	}
	if hc.CgroupnsMode.IsEmpty() {
		hc.CgroupnsMode = containertypes.CgroupnsModeHost
		if d.host.CgroupV2 {
			hc.CgroupnsMode = containertypes.CgroupnsModePrivate
		}
	}
	if hc.PidMode.IsContainer() {
		if other, err := d.lookup(hc.PidMode.Container()); err == nil {
			hc.PidMode = containertypes.PidMode("container:" + other.ID)
		}
	}
	if hc.IpcMode.IsContainer() {
		if other, err := d.lookup(hc.IpcMode.Container()); err == nil {
			hc.IpcMode = containertypes.IpcMode("container:" + other.ID)
		}
	}
}

// validateJoinedContainers refuses, at create, an --ipc or --pid
// container:<x> that names no container, with dockerd's 400 (a 404 from
// create reads to docker's CLI as a missing image, which it pulls). That
// the container runs is checked at start.
func (d *Daemon) validateJoinedContainers(hc *containertypes.HostConfig) error {
	var refs []string
	if hc.PidMode.IsContainer() {
		refs = append(refs, hc.PidMode.Container())
	}
	if hc.IpcMode.IsContainer() {
		refs = append(refs, hc.IpcMode.Container())
	}
	for _, ref := range refs {
		if _, err := d.lookup(ref); errdefs.IsNotFound(err) {
			return errdefs.ErrInvalidArgument.WithMessage(err.Error())
		} else if err != nil {
			return err
		}
	}
	return nil
}

// sharedNamespaces are the namespaces c joins: those of the containers its
// --ipc and --pid container:<x> name, which must be running (docker's
// getIPCContainer and getPIDContainer). The donor of an IPC namespace must
// be shareable (or share the host's), as docker requires.
type sharedNamespaces struct {
	ipc, pid, shm string
}

// joinedNamespaces resolves c's shared namespaces; c is locked.
func (d *Daemon) joinedNamespaces(c *container.Container) (sharedNamespaces, error) {
	var ns sharedNamespaces
	if ref := c.HostConfig.PidMode; ref.IsContainer() {
		other, err := d.donor(ref.Container(), c.ID)
		if err != nil {
			return ns, err
		}
		ns.pid = fmt.Sprintf("/proc/%d/ns/pid", other.pid)
	}
	if ref := c.HostConfig.IpcMode; ref.IsContainer() {
		other, err := d.donor(ref.Container(), c.ID)
		if err != nil {
			return ns, err
		}
		if !other.ipcMode.IsShareable() && !other.ipcMode.IsHost() {
			return ns, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("container %s: non-shareable IPC (hint: use IpcMode:shareable for the donor container)", ref.Container()))
		}
		ns.ipc = fmt.Sprintf("/proc/%d/ns/ipc", other.pid)
		ns.shm = "/dev/shm"
		if other.ipcMode.IsShareable() {
			ns.shm = d.shmDir(other.id)
		}
	}
	if c.HostConfig.IpcMode.IsShareable() {
		ns.shm = d.shmDir(c.ID)
	}
	return ns, nil
}

// shmDir is where the /dev/shm of a container with a shareable IPC
// namespace is mounted on the host, so that the containers joining it bind
// the same one (a mount cannot be bound from another mount namespace).
func (d *Daemon) shmDir(id string) string {
	return filepath.Join(d.containerStateDir(id), "shm")
}

// mountShareableShm mounts the /dev/shm of a container with --ipc
// shareable on the host, sized as its own would be; c is locked.
// removeBundle unmounts it.
func (d *Daemon) mountShareableShm(c *container.Container) error {
	if !c.HostConfig.IpcMode.IsShareable() {
		return nil
	}
	dir := d.shmDir(c.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create shareable /dev/shm: %w", err)
	}
	size := c.HostConfig.ShmSize
	if size <= 0 {
		size = oci.DefaultShmSize
	}
	shm := snapshot.Mount{Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "nodev", "noexec", "mode=1777", "size=" + strconv.FormatInt(size, 10)}}
	if err := d.mounter.Mount(shm, dir); err != nil {
		return fmt.Errorf("mount shareable /dev/shm: %w", err)
	}
	return nil
}

// namespaceDonor is what joining a running container's namespace needs of
// it, read under its lock.
type namespaceDonor struct {
	id      string
	pid     int
	ipcMode containertypes.IpcMode
}

// donor returns the id, pid and IPC mode of the running container ref,
// whose namespace the container self joins. It looks ref up once: a second
// lookup could find it removed meanwhile.
func (d *Daemon) donor(ref, self string) (namespaceDonor, error) {
	other, err := d.lookup(ref)
	if err != nil {
		return namespaceDonor{}, errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if other.ID == self {
		return namespaceDonor{}, errdefs.ErrInvalidArgument.WithMessage("cannot join own namespace")
	}
	other.Lock()
	defer other.Unlock()
	if other.State.Status != containertypes.StateRunning || other.State.Pid == 0 {
		return namespaceDonor{}, errNotRunning(other.ID)
	}
	return namespaceDonor{id: other.ID, pid: other.State.Pid, ipcMode: other.HostConfig.IpcMode}, nil
}

// initPath is berth-init's path when c runs with an init (--init, or
// daemon.json's "init" when c does not say).
func (d *Daemon) initPath(c *container.Container) (string, error) {
	want := d.cfg.Init
	if c.HostConfig.Init != nil {
		want = *c.HostConfig.Init
	}
	if !want {
		return "", nil
	}
	if d.cfg.InitPath == "" {
		return "", errdefs.ErrNotImplemented.WithMessage("--init: berth-init is not installed beside berthd")
	}
	return d.cfg.InitPath, nil
}
