package oci

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DetectHost reads what Spec needs to know about this host's kernel.
func DetectHost() Host {
	h := Host{Cgroups: detectCgroups(cgroupRoot), Capabilities: availableCapabilities()}
	h.CgroupV2 = h.Cgroups.Mode == CgroupV2
	h.PingGroupRange = exists("/proc/sys/net/ipv4/ping_group_range")
	h.UnprivilegedPortStart = exists("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	h.OomScoreAdjFloor = oomScoreAdjFloor(h.Capabilities)
	return h
}

// oomScoreAdjFloor is nil when caps (berth's bounding set) hold
// CAP_SYS_RESOURCE, which lowering an oom_score_adj needs; otherwise it is
// berth's own oom_score_adj, which the runtime and the container inherit
// and may raise but not lower.
func oomScoreAdjFloor(caps []string) *int {
	if caps == nil || slices.Contains(caps, "CAP_SYS_RESOURCE") {
		return nil
	}
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return nil
	}
	return &v
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

// DevicesFromPath returns the device node at host (or every node under it
// when it is a folder), as it appears in the container at ctr (docker's
// --device host:ctr).
func DevicesFromPath(host, ctr string) ([]specs.LinuxDevice, error) {
	resolved, err := filepath.EvalSymlinks(host)
	if err != nil {
		return nil, gatherError(host, err)
	}
	st, err := os.Stat(resolved)
	if err != nil {
		return nil, gatherError(host, err)
	}
	if !st.IsDir() {
		dev, ok := deviceFromPath(resolved)
		if !ok {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("error gathering device information while adding custom device %q: not a device node", host))
		}
		dev.Path = ctr
		return []specs.LinuxDevice{dev}, nil
	}
	var devs []specs.LinuxDevice
	err = filepath.WalkDir(resolved, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if dev, ok := deviceFromPath(p); ok {
			rel, _ := filepath.Rel(resolved, p)
			dev.Path = filepath.Join(ctr, rel)
			devs = append(devs, dev)
		}
		return nil
	})
	if err != nil {
		return nil, gatherError(host, err)
	}
	return devs, nil
}

func gatherError(host string, err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		err = pe.Err // docker's message names the errno alone
	}
	msg := fmt.Sprintf("error gathering device information while adding custom device %q: %v", host, err)
	if errors.Is(err, fs.ErrNotExist) {
		return errdefs.ErrNotFound.WithMessage(msg)
	}
	return errdefs.ErrInvalidArgument.WithMessage(msg)
}
