package oci

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DetectHost reads what Spec needs to know about this host's kernel.
func DetectHost() Host {
	h := Host{CgroupV2: cgroupV2Unified(), Capabilities: availableCapabilities()}
	if h.CgroupV2 {
		// the root cgroup has no memory.swap.max; look at a child
		h.SwapLimit = exists("/sys/fs/cgroup/init.scope/memory.swap.max") || exists("/sys/fs/cgroup/system.slice/memory.swap.max")
	} else {
		h.SwapLimit = exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
	}
	h.PingGroupRange = exists("/proc/sys/net/ipv4/ping_group_range")
	h.UnprivilegedPortStart = exists("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	return h
}

// cgroupV2Unified reports whether /sys/fs/cgroup is a cgroup2 mount (a pure
// v2 host), as opposed to v1 or hybrid, where it is a tmpfs of v1
// hierarchies.
func cgroupV2Unified() bool {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return false
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC
}

// availableCapabilities returns the capabilities both the kernel knows
// (cap_last_cap) and this process's bounding set holds: a runtime started by
// berth cannot grant more (berth may itself run in a restricted container).
// Nil when they cannot be read.
func availableCapabilities() []string {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return nil
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return nil
	}
	bounding := ^uint64(0)
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil {
					bounding = m
				}
			}
		}
	}
	var caps []string
	for i, name := range knownCapabilities {
		if i <= last && bounding&(1<<i) != 0 {
			caps = append(caps, name)
		}
	}
	return caps
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// HostDevices lists the host's device nodes under /dev, as docker gives
// them to privileged containers. The pts, shm, mqueue and fd folders and
// /dev/console are skipped: the container gets its own.
func HostDevices() ([]specs.LinuxDevice, error) {
	var devs []specs.LinuxDevice
	err := filepath.WalkDir("/dev", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == "/dev" {
				return err
			}
			return nil // a node that vanished or cannot be read is skipped
		}
		if d.IsDir() {
			switch d.Name() {
			case "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev":
				return filepath.SkipDir
			}
			return nil
		}
		if p == "/dev/console" {
			return nil
		}
		dev, ok := deviceFromPath(p)
		if ok {
			devs = append(devs, dev)
		}
		return nil
	})
	return devs, err
}

func deviceFromPath(p string) (specs.LinuxDevice, bool) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return specs.LinuxDevice{}, false
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		typ = "b"
	case unix.S_IFCHR:
		typ = "c"
	default:
		return specs.LinuxDevice{}, false
	}
	mode := fs.FileMode(st.Mode &^ unix.S_IFMT)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path:     p,
		Type:     typ,
		Major:    int64(unix.Major(uint64(st.Rdev))),
		Minor:    int64(unix.Minor(uint64(st.Rdev))),
		FileMode: &mode,
		UID:      &uid,
		GID:      &gid,
	}, true
}
