package volume

import (
	"fmt"

	"github.com/moby/sys/mount"
	"github.com/moby/sys/mountinfo"
)

// mountDevice mounts a volume's device on dir as docker's local driver
// does: mount(8)'s semantics for type, device and o (o=bind binds a host
// folder), unless something is mounted there already.
func mountDevice(opts map[string]string, dir string) error {
	if mounted, err := mountinfo.Mounted(dir); err == nil && mounted {
		return nil
	}
	if opts["device"] == "" {
		return fmt.Errorf("missing device in volume options")
	}
	if err := mount.Mount(opts["device"], dir, opts["type"], opts["o"]); err != nil {
		return fmt.Errorf("failed to mount local volume: %w", err)
	}
	return nil
}

// unmountDevice unmounts what is mounted on dir, if anything (a plain
// folder needs no privilege).
func unmountDevice(dir string) error {
	if mounted, err := mountinfo.Mounted(dir); err != nil || !mounted {
		return nil
	}
	return mount.Unmount(dir)
}
