package oci

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/volume"
)

// setMounts lays out docker's mounts: the defaults (minus those a user
// mount replaces, everything under /dev when /dev itself is user-mounted,
// /dev/shm with IPC mode none), sized /dev/shm, then the user mounts
// (ExtraMounts, -v binds and --tmpfs) parents first; read-only rootfs and
// privileged adjustments last.
func setMounts(s *specs.Spec, hc *containertypes.HostConfig, o *Options, _ *Host) error {
	user := slices.Clone(o.ExtraMounts)
	asked, err := volume.ContainerSpecs(hc, o.VolumesFromMounts)
	if err != nil {
		return err
	}
	if err := setRootfsPropagation(s, asked, o.SourcePropagation); err != nil {
		return err
	}
	binds, err := bindMounts(asked, o.VolumePaths)
	if err != nil {
		return err
	}
	user = append(user, binds...)
	tmpfs, err := tmpfsMounts(hc.Tmpfs)
	if err != nil {
		return err
	}
	user = append(user, tmpfs...)
	sort.SliceStable(user, func(i, j int) bool { return depth(user[i].Destination) < depth(user[j].Destination) })

	userDest := map[string]bool{}
	for _, m := range user {
		userDest[path.Clean(m.Destination)] = true
	}
	shmSize := hc.ShmSize
	if shmSize <= 0 {
		shmSize = DefaultShmSize
	}
	var mounts []specs.Mount
	for _, m := range defaultMounts() {
		if userDest[m.Destination] || userDest["/dev"] && strings.HasPrefix(m.Destination, "/dev/") {
			continue
		}
		if m.Destination == "/dev/shm" {
			if hc.IpcMode.IsNone() {
				continue
			}
			if hc.IpcMode.IsHost() {
				m = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
			} else {
				m.Options = append(m.Options, "size="+itoa(shmSize))
			}
		}
		if hc.Privileged && (m.Destination == "/sys" || m.Type == "cgroup") {
			// privileged containers may write to /sys and their cgroups
			m.Options = slices.DeleteFunc(m.Options, func(o string) bool { return o == "ro" })
		}
		if hc.ReadonlyRootfs && !writableWithReadonlyRootfs(m.Destination) && !slices.Contains(m.Options, "ro") {
			m.Options = append(m.Options, "ro")
		}
		mounts = append(mounts, m)
	}
	s.Mounts = append(mounts, user...)
	return nil
}

// setRootfsPropagation checks, as docker, that a shared bind comes from a
// shared host mount and a slave bind from a shared or slave one, and makes
// the root filesystem's propagation follow (shared for a shared bind, at
// least rslave for a slave one) so that the bind's events do propagate.
func setRootfsPropagation(s *specs.Spec, mounts []volume.Spec, source func(string) (string, bool, bool, error)) error {
	if source == nil {
		return nil
	}
	for _, m := range mounts {
		if m.Type != mount.TypeBind {
			continue
		}
		switch m.Propagation {
		case mount.PropagationShared, mount.PropagationRShared:
			mp, shared, _, err := source(m.Source)
			if err != nil {
				return err
			}
			if !shared {
				return fmt.Errorf("path %s is mounted on %s but it is not a shared mount", m.Source, mp)
			}
			s.Linux.RootfsPropagation = "shared"
		case mount.PropagationSlave, mount.PropagationRSlave:
			mp, shared, slave, err := source(m.Source)
			if err != nil {
				return err
			}
			if !shared && !slave {
				return fmt.Errorf("path %s is mounted on %s but it is not a shared or slave mount", m.Source, mp)
			}
			if s.Linux.RootfsPropagation != "shared" {
				s.Linux.RootfsPropagation = "rslave"
			}
		}
	}
	return nil
}

// writableWithReadonlyRootfs lists the default mounts docker keeps writable
// in a container with a read-only root filesystem.
func writableWithReadonlyRootfs(dest string) bool {
	switch dest {
	case "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue":
		return true
	}
	return false
}

func depth(p string) int {
	return len(strings.Split(path.Clean(p), "/"))
}

// bindMounts turns the -v binds and --mount entries into recursive binds
// with the asked propagation (rprivate by default, as docker), read-only
// when asked; a volume is a bind of its folder in volumePaths; a --mount
// tmpfs is a tmpfs with docker's defaults.
func bindMounts(mounts []volume.Spec, volumePaths map[string]string) ([]specs.Mount, error) {
	var out []specs.Mount
	for _, spec := range mounts {
		if spec.Type == mount.TypeTmpfs {
			m, err := tmpfsMount(spec.Target, spec.TmpfsData())
			if err != nil {
				return nil, err
			}
			out = append(out, m)
			continue
		}
		propagation := spec.Propagation
		if spec.Type == mount.TypeVolume {
			src, ok := volumePaths[spec.Source]
			if !ok {
				return nil, fmt.Errorf("volume %s has no folder: %w", spec.Source, errdefs.ErrNotFound)
			}
			spec.Source, propagation = src, mount.PropagationRPrivate
		}
		opts := []string{"rbind", string(propagation)}
		if spec.ReadOnly {
			opts = append(opts, "ro")
		}
		out = append(out, specs.Mount{Destination: spec.Target, Type: "bind", Source: spec.Source, Options: opts})
	}
	return out, nil
}

// tmpfsMounts turns --tmpfs destinations and their options into mounts,
// with docker's defaults (noexec, nosuid, nodev, rprivate) overridable.
func tmpfsMounts(tmpfs map[string]string) ([]specs.Mount, error) {
	dests := make([]string, 0, len(tmpfs))
	for d := range tmpfs {
		dests = append(dests, d)
	}
	slices.Sort(dests)
	var out []specs.Mount
	for _, d := range dests {
		if !path.IsAbs(d) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid mount config for type \"tmpfs\": invalid mount path: '%s' mount path must be absolute", d))
		}
		m, err := tmpfsMount(d, tmpfs[d])
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// tmpfsMount is a tmpfs at dest with docker's defaults (noexec, nosuid,
// nodev, rprivate), which the options in data override.
func tmpfsMount(dest, data string) (specs.Mount, error) {
	opts := []string{"noexec", "nosuid", "nodev", "rprivate"}
	if data != "" {
		opts = append(opts, strings.Split(data, ",")...)
	}
	merged, err := mergeTmpfsOptions(opts)
	if err != nil {
		return specs.Mount{}, err
	}
	return specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: merged}, nil
}

// flagGroups maps each mount flag to the group of flags that contradict one
// another; the last one given wins.
var flagGroups = map[string]string{
	"ro": "ro", "rw": "ro",
	"exec": "exec", "noexec": "exec",
	"suid": "suid", "nosuid": "suid",
	"dev": "dev", "nodev": "dev",
	"sync": "sync", "async": "sync",
	"dirsync": "dirsync",
	"atime":   "atime", "noatime": "atime",
	"diratime": "diratime", "nodiratime": "diratime",
	"relatime": "relatime", "norelatime": "relatime",
	"strictatime": "strictatime", "nostrictatime": "strictatime",
	"mand": "mand", "nomand": "mand",
	"private": "propagation", "rprivate": "propagation",
	"shared": "propagation", "rshared": "propagation",
	"slave": "propagation", "rslave": "propagation",
	"unbindable": "propagation", "runbindable": "propagation",
}

// tmpfsData are the key=value options tmpfs accepts.
var tmpfsData = []string{"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"}

// mergeTmpfsOptions drops options overridden by later ones, keeping order.
func mergeTmpfsOptions(opts []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for i := len(opts) - 1; i >= 0; i-- {
		o := opts[i]
		if o == "defaults" {
			continue
		}
		key, isFlag := flagGroups[o]
		if !isFlag {
			k, _, ok := strings.Cut(o, "=")
			if !ok || !slices.Contains(tmpfsData, k) {
				return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid tmpfs option %q", o))
			}
			key = "data:" + k
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, o)
	}
	slices.Reverse(out)
	return out, nil
}
