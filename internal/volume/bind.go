package volume

import (
	"fmt"
	"os"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// CreateBindSources creates, as docker does at start, the host folder of
// every bind in binds that does not exist yet.
func CreateBindSources(binds []string) error {
	for _, raw := range binds {
		spec, err := Parse(raw)
		if err != nil {
			return err
		}
		if spec.Type != mount.TypeBind {
			continue
		}
		if _, err := os.Lstat(spec.Source); err == nil {
			continue
		}
		if err := os.MkdirAll(spec.Source, 0o755); err != nil {
			return fmt.Errorf("error while creating mount source path '%s': %w", spec.Source, err)
		}
	}
	return nil
}

// MountPoints returns the binds' entries in docker's inspect Mounts, in the
// order given; folder gives a volume's host folder. Entries that do not
// parse (refused at create) are left out.
func MountPoints(binds []string, folder func(volume string) string) []containertypes.MountPoint {
	out := []containertypes.MountPoint{}
	for _, raw := range binds {
		spec, err := Parse(raw)
		if err != nil {
			continue
		}
		if spec.Type == mount.TypeVolume {
			mode := spec.Mode
			if mode == "" {
				mode = "z" // docker's default label mode, shown by its inspect
			}
			out = append(out, containertypes.MountPoint{
				Type:        mount.TypeVolume,
				Name:        spec.Source,
				Source:      folder(spec.Source),
				Destination: spec.Target,
				Driver:      "local",
				Mode:        mode,
				RW:          !spec.ReadOnly,
			})
			continue
		}
		out = append(out, containertypes.MountPoint{
			Type:        mount.TypeBind,
			Source:      spec.Source,
			Destination: spec.Target,
			Mode:        spec.Mode,
			RW:          !spec.ReadOnly,
			Propagation: spec.Propagation,
		})
	}
	return out
}
