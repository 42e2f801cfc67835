package volume

import (
	"fmt"
	"os"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// CheckBindSources refuses, as docker does at create, a --mount bind whose
// host path does not exist.
func CheckBindSources(specs []Spec) error {
	for _, s := range specs {
		if s.Type != mount.TypeBind || !s.FromMount {
			continue
		}
		if _, err := os.Lstat(s.Source); err != nil {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid mount config for type \"bind\": bind source path does not exist: %s", s.Source))
		}
	}
	return nil
}

// PrepareBindSources creates, as docker does at start, the missing host
// folder of every -v bind, and checks the --mount binds' sources.
func PrepareBindSources(specs []Spec) error {
	if err := CheckBindSources(specs); err != nil {
		return err
	}
	for _, s := range specs {
		if s.Type != mount.TypeBind || s.FromMount {
			continue
		}
		if _, err := os.Lstat(s.Source); err == nil {
			continue
		}
		if err := os.MkdirAll(s.Source, 0o755); err != nil {
			return fmt.Errorf("error while creating mount source path '%s': %w", s.Source, err)
		}
	}
	return nil
}

// MountPoints returns the mounts' entries in docker's inspect Mounts, in
// the order given; folder gives a volume's host folder, anonymous whether
// a volume was made for the container without a name.
func MountPoints(specs []Spec, folder func(volume string) string, anonymous func(volume string) bool) []containertypes.MountPoint {
	out := []containertypes.MountPoint{}
	for _, s := range specs {
		if s.Type == mount.TypeVolume {
			mode := s.Mode
			if mode == "" && (s.FromMount || !anonymous(s.Source)) {
				// docker's default label mode for the local driver's -v and
				// --mount volumes, shown by its inspect; an anonymous -v
				// entry is one create made for a VOLUME path, which docker
				// shows without
				mode = "z"
			}
			out = append(out, containertypes.MountPoint{
				Type:        mount.TypeVolume,
				Name:        s.Source,
				Source:      folder(s.Source),
				Destination: s.Target,
				Driver:      "local",
				Mode:        mode,
				RW:          !s.ReadOnly,
			})
			continue
		}
		if s.Type == mount.TypeTmpfs {
			out = append(out, containertypes.MountPoint{Type: mount.TypeTmpfs, Destination: s.Target, RW: !s.ReadOnly})
			continue
		}
		out = append(out, containertypes.MountPoint{
			Type:        mount.TypeBind,
			Source:      s.Source,
			Destination: s.Target,
			Mode:        s.Mode,
			RW:          !s.ReadOnly,
			Propagation: s.Propagation,
		})
	}
	return out
}
