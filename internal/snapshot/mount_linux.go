//go:build linux

package snapshot

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// mountFlags maps mount(8) option words to flags; the others are data.
var mountFlags = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro":       {false, unix.MS_RDONLY},
	"rw":       {true, unix.MS_RDONLY},
	"bind":     {false, unix.MS_BIND},
	"rbind":    {false, unix.MS_BIND | unix.MS_REC},
	"nosuid":   {false, unix.MS_NOSUID},
	"suid":     {true, unix.MS_NOSUID},
	"nodev":    {false, unix.MS_NODEV},
	"dev":      {true, unix.MS_NODEV},
	"noexec":   {false, unix.MS_NOEXEC},
	"exec":     {true, unix.MS_NOEXEC},
	"noatime":  {false, unix.MS_NOATIME},
	"relatime": {false, unix.MS_RELATIME},
}

// MountAt mounts m on target, which must exist.
func (m Mount) MountAt(target string) error {
	var flags uintptr
	var data []string
	for _, o := range m.Options {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		data = append(data, o)
	}
	typ := m.Type
	if typ == "bind" {
		typ = ""
		flags |= unix.MS_BIND
	}
	opts := strings.Join(data, ",")
	if len(opts) >= unix.Getpagesize() && typ == "overlay" {
		// Too long for mount(2) (one page): name the lower directories by
		// short /proc/self/fd paths, resolved by the kernel during the mount.
		short, closeFDs, err := shortLowerDirs(data)
		if err != nil {
			return fmt.Errorf("mount overlay at %s: %w", target, err)
		}
		defer closeFDs()
		opts = strings.Join(short, ",")
	}
	if len(opts) >= unix.Getpagesize() {
		return fmt.Errorf("mount %s at %s: options too long (%d bytes)", m.Type, target, len(opts))
	}
	if flags&unix.MS_BIND == 0 {
		if err := unix.Mount(m.Source, target, typ, flags, opts); err != nil {
			return fmt.Errorf("mount %s at %s: %w", m.Type, target, err)
		}
		return nil
	}
	if err := unix.Mount(m.Source, target, "", flags&^unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("bind mount %s at %s: %w", m.Source, target, err)
	}
	// A bind mount ignores MS_RDONLY on the first call: remount to apply it.
	if flags&unix.MS_RDONLY != 0 {
		if err := unix.Mount("", target, "", flags|unix.MS_REMOUNT, ""); err != nil {
			_ = unix.Unmount(target, unix.MNT_DETACH)
			return fmt.Errorf("remount %s read-only: %w", target, err)
		}
	}
	return nil
}

// Unmount lazily unmounts target. A target that is not mounted (or does not
// exist) is not an error.
func Unmount(target string) error {
	for {
		err := unix.Unmount(target, unix.MNT_DETACH)
		switch {
		case err == nil:
			// Mounts can be stacked: keep going until nothing is left.
			continue
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		default:
			return fmt.Errorf("unmount %s: %w", target, err)
		}
	}
}

// shortLowerDirs replaces the lowerdir paths with /proc/self/fd/<n> of
// O_PATH descriptors, which the caller closes after mounting.
func shortLowerDirs(opts []string) ([]string, func(), error) {
	var fds []int
	closeFDs := func() {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
	}
	out := make([]string, len(opts))
	for i, o := range opts {
		dirs, ok := strings.CutPrefix(o, "lowerdir=")
		if !ok {
			out[i] = o
			continue
		}
		var short []string
		for _, d := range strings.Split(dirs, ":") {
			fd, err := unix.Open(d, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				closeFDs()
				return nil, nil, fmt.Errorf("open %s: %w", d, err)
			}
			fds = append(fds, fd)
			short = append(short, fmt.Sprintf("/proc/self/fd/%d", fd))
		}
		out[i] = "lowerdir=" + strings.Join(short, ":")
	}
	return out, closeFDs, nil
}
