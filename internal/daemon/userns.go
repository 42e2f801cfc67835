package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/userns"
)

// remapped reports whether a container with hc runs in a user namespace:
// the daemon remaps (--userns-remap) and it did not ask for --userns=host.
func (d *Daemon) remapped(hc *containertypes.HostConfig) bool {
	return d.cfg.Remap.Enabled() && !hc.UsernsMode.IsHost()
}

// validateUserns refuses what dockerd refuses with user namespaces: a
// mode other than host, and sharing the host's namespaces or privileges
// from inside a remapped container.
func (d *Daemon) validateUserns(hc *containertypes.HostConfig) error {
	if hc.UsernsMode != "" && !hc.UsernsMode.IsHost() {
		return invalid("invalid USER mode: %s", hc.UsernsMode)
	}
	if !d.remapped(hc) {
		return nil
	}
	switch {
	case hc.Privileged:
		return invalid("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode")
	case hc.NetworkMode.IsHost():
		return invalid("cannot share the host's network namespace when user namespaces are enabled")
	case hc.PidMode.IsHost():
		return invalid("cannot share the host PID namespace when user namespaces are enabled")
	}
	return nil
}

// remapRoot is the host uid and gid of the remapped root, which owns the
// files berth makes for containers under --userns-remap (those of a
// --userns=host container too: it runs on the same remapped store, as in
// dockerd); 0 and 0 without remapping.
func (d *Daemon) remapRoot() (int, int) {
	return d.cfg.Remap.IDs.RootPair()
}

// chownToRoot gives paths to the container's root, as dockerd does for
// the files it makes for a container (its /etc files, volume folders).
func (d *Daemon) chownToRoot(paths ...string) error {
	uid, gid := d.remapRoot()
	if uid == 0 && gid == 0 {
		return nil
	}
	for _, p := range paths {
		if err := os.Lchown(p, uid, gid); err != nil {
			return fmt.Errorf("chown %s to the remapped root: %w", p, err)
		}
	}
	return nil
}

// applyUserns puts a remapped container in its user namespace: the one
// berth made with its network namespace (usernsPath, "" for none: the
// runtime then makes one), with the mappings. Where the container's root
// does not own the network namespace it joins, it may neither mount a sysfs
// for it nor write its sysctls: /sys is bound from the host then (as runc
// 1.2 falls back to) and berth's default net sysctls are left out. dockerd
// sets no ping_group_range in a user namespace (its IDs are not all mapped
// there).
func (d *Daemon) applyUserns(s *specs.Spec, hc *containertypes.HostConfig, netns, usernsPath string) {
	if !d.remapped(hc) {
		return
	}
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: usernsPath})
	s.Linux.UIDMappings = userns.SpecMappings(d.cfg.Remap.IDs.UIDMaps)
	s.Linux.GIDMappings = userns.SpecMappings(d.cfg.Remap.IDs.GIDMaps)
	delete(s.Linux.Sysctl, "net.ipv4.ping_group_range")
	ownsNet := netns == "" || usernsPath != ""
	for i, m := range s.Mounts {
		switch {
		case m.Type == "sysfs" && !ownsNet:
			s.Mounts[i] = specs.Mount{Destination: m.Destination, Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
		case m.Type == "cgroup":
			// a read-only remount is refused in a user namespace: dockerd
			// clears the flag too
			s.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
		}
	}
	if !ownsNet {
		delete(s.Linux.Sysctl, "net.ipv4.ip_unprivileged_port_start")
	}
}

// usernsPath is where the user namespace berth makes for a remapped
// container with its network namespace is bound.
func (d *Daemon) usernsPath(id string) string {
	return filepath.Join(d.containerStateDir(id), "userns")
}

// createUserNetNS makes a remapped container's network namespace inside a
// user namespace of its own, unless they exist already.
func (d *Daemon) createUserNetNS(c *container.Container) error {
	if !d.remapped(c.HostConfig) {
		return nil
	}
	if _, err := os.Stat(d.netnsPath(c.ID)); err == nil {
		return nil
	}
	ids := d.cfg.Remap.IDs
	if err := network.CreateUserNetNS(d.usernsPath(c.ID), d.netnsPath(c.ID), userns.SpecMappings(ids.UIDMaps), userns.SpecMappings(ids.GIDMaps)); err != nil {
		return fmt.Errorf("create user namespace: %w", err)
	}
	return nil
}

// joinedUserns is the user namespace file of the container whose network
// namespace c joins (its own, or that of --network container:<x>), "" when
// there is none.
func (d *Daemon) joinedUserns(c *container.Container, netns string) string {
	for _, id := range []string{c.ID, d.netnsOwner(c)} {
		if id != "" && netns == d.netnsPath(id) {
			if _, err := os.Stat(d.usernsPath(id)); err == nil {
				return d.usernsPath(id)
			}
		}
	}
	return ""
}

// remapDirs opens the way from / to what a remapped container's root must
// reach itself (its rootfs mount point in the bundle, its /etc files):
// dockerd's roots are 0711 and its container folders group-owned by the
// remapped root for the same reason.
func remapDirs(cfg Config) error {
	if !cfg.Remap.Enabled() {
		return nil
	}
	_, gid := cfg.Remap.IDs.RootPair()
	for _, dir := range []string{cfg.ExecRoot, containersDir(cfg.ExecRoot)} {
		if err := os.Chmod(dir, 0o711); err != nil {
			return fmt.Errorf("user namespaces: %w", err)
		}
	}
	if err := os.Chown(containersDir(cfg.DataRoot), 0, gid); err != nil {
		return fmt.Errorf("user namespaces: %w", err)
	}
	return nil
}

// chownGroupToRoot lets a remapped container's root through dir (0710):
// dockerd's container folders are group-owned by the remapped root.
func (d *Daemon) chownGroupToRoot(dir string) error {
	if _, gid := d.remapRoot(); gid != 0 {
		if err := os.Chown(dir, 0, gid); err != nil {
			return fmt.Errorf("chown %s to the remapped root's group: %w", dir, err)
		}
	}
	return nil
}

// openBundle lets a remapped container's root reach its rootfs mount point
// in the bundle: the runtime mounts it from inside the user namespace.
func (d *Daemon) openBundle(hc *containertypes.HostConfig, bundle string) error {
	if !d.remapped(hc) {
		return nil
	}
	if err := os.Chmod(bundle, 0o711); err != nil {
		return fmt.Errorf("create bundle: %w", err)
	}
	return nil
}

// netnsOwner is the ID of the container whose network namespace c joins
// with --network container:<x>, "" otherwise.
func (d *Daemon) netnsOwner(c *container.Container) string {
	if !c.HostConfig.NetworkMode.IsContainer() {
		return ""
	}
	other, err := d.lookup(c.HostConfig.NetworkMode.ConnectedContainer())
	if err != nil {
		return ""
	}
	return other.ID
}
