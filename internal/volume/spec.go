// Package volume owns the mounts a container asks for: parsing docker's
// `-v` specs (pure, with docker's rules and messages) and preparing their
// sources on the host.
package volume

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// Spec is one parsed `-v`/Binds entry.
type Spec struct {
	Type mount.Type
	// Source is the host path of a bind, the name of a volume, or "" for
	// an anonymous volume.
	Source string
	// Target is the absolute path inside the container.
	Target string
	// Mode is the mode field as given ("" when none), shown by inspect.
	Mode        string
	ReadOnly    bool
	Propagation mount.Propagation
	NoCopy      bool
	// FromMount marks a --mount entry (HostConfig.Mounts): its bind source
	// must exist, where a -v bind's missing folder is created.
	FromMount bool
	// TmpfsSize and TmpfsMode are a tmpfs mount's size in bytes and
	// permissions (0: the kernel's defaults).
	TmpfsSize int64
	TmpfsMode os.FileMode
}

// Parse parses a `-v` spec with docker's Linux rules: `target`,
// `source:target` or `source:target:mode`, where an absolute source is a
// host path (bind) and any other source a volume name.
func Parse(raw string) (Spec, error) {
	if strings.Count(raw, ":") > 2 {
		return Spec{}, invalidSpec(raw)
	}
	arr := strings.SplitN(raw, ":", 3)
	if arr[0] == "" {
		return Spec{}, invalidSpec(raw)
	}
	var s Spec
	switch len(arr) {
	case 1:
		s.Target = arr[0]
	case 2:
		if _, err := parseMode(arr[1]); err == nil {
			// a destination and a mode is no volume: /foo:rw
			return Spec{}, invalidSpec(raw)
		}
		s.Source, s.Target = arr[0], arr[1]
	case 3:
		s.Source, s.Target, s.Mode = arr[0], arr[1], arr[2]
	}
	m, err := parseMode(s.Mode)
	if err != nil {
		return Spec{}, err
	}
	s.ReadOnly, s.NoCopy, s.Propagation = m.readOnly, m.noCopy, m.propagation
	s.Type = mount.TypeVolume
	if path.IsAbs(s.Source) {
		s.Type = mount.TypeBind
	}
	if err := s.validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// FromMount checks one --mount entry (HostConfig.Mounts) with docker's
// rules; the types berth cannot mount yet are refused, never ignored.
func FromMount(m mount.Mount) (Spec, error) {
	s := Spec{Type: m.Type, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly, FromMount: true}
	switch m.Type {
	case mount.TypeBind:
		if m.VolumeOptions != nil {
			return Spec{}, invalidConfig(m.Type, "field VolumeOptions must not be specified")
		}
		if m.Source == "" {
			return Spec{}, invalidConfig(m.Type, "field Source must not be empty")
		}
		if !path.IsAbs(m.Source) {
			return Spec{}, invalidConfig(m.Type, fmt.Sprintf("invalid mount path: '%s' mount path must be absolute", m.Source))
		}
		if o := m.BindOptions; o != nil {
			if o.NonRecursive || o.CreateMountpoint || o.ReadOnlyNonRecursive || o.ReadOnlyForceRecursive {
				return Spec{}, errdefs.ErrNotImplemented.WithMessage("bind options other than the propagation are not supported by berth yet")
			}
			s.Propagation = o.Propagation
		}
		if s.Propagation != "" && !slices.Contains(propagations, s.Propagation) {
			return Spec{}, invalidConfig(m.Type, fmt.Sprintf("invalid propagation mode: %s", s.Propagation))
		}
	case mount.TypeVolume:
		if m.BindOptions != nil {
			return Spec{}, invalidConfig(m.Type, "field BindOptions must not be specified")
		}
		if o := m.VolumeOptions; o != nil {
			if o.Subpath != "" || len(o.Labels) > 0 || o.DriverConfig != nil && o.DriverConfig.Name != "" && o.DriverConfig.Name != "local" {
				return Spec{}, errdefs.ErrNotImplemented.WithMessage("volume subpaths, labels and drivers in --mount are not supported by berth yet")
			}
			s.NoCopy = o.NoCopy
		}
	case mount.TypeTmpfs:
		switch {
		case m.BindOptions != nil:
			return Spec{}, invalidConfig(m.Type, "field BindOptions must not be specified")
		case m.VolumeOptions != nil:
			return Spec{}, invalidConfig(m.Type, "field VolumeOptions must not be specified")
		case m.Source != "":
			return Spec{}, invalidConfig(m.Type, "field Source must not be specified")
		}
		if o := m.TmpfsOptions; o != nil {
			if len(o.Options) > 0 {
				return Spec{}, errdefs.ErrNotImplemented.WithMessage("tmpfs-options are not supported by berth yet")
			}
			if o.SizeBytes < 0 {
				return Spec{}, invalidConfig(m.Type, fmt.Sprintf("invalid tmpfs size: %d", o.SizeBytes))
			}
			s.TmpfsSize, s.TmpfsMode = o.SizeBytes, o.Mode
		}
	default:
		return Spec{}, errdefs.ErrNotImplemented.WithMessage(fmt.Sprintf("mounts of type %q are not supported by berth yet", m.Type))
	}
	if err := s.validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// Specs parses a container's -v binds, then its --mount entries.
func Specs(binds []string, mounts []mount.Mount) ([]Spec, error) {
	out := make([]Spec, 0, len(binds)+len(mounts))
	for _, raw := range binds {
		s, err := Parse(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	for _, m := range mounts {
		s, err := FromMount(m)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ContainerSpecs returns what a container mounts: its -v binds, its
// --mount entries, then what --volumes-from gave it (inherited) at the
// targets its own mounts leave free.
func ContainerSpecs(hc *containertypes.HostConfig, inherited []mount.Mount) ([]Spec, error) {
	own, err := Specs(hc.Binds, hc.Mounts)
	if err != nil {
		return nil, err
	}
	more, err := Specs(nil, inherited)
	if err != nil {
		return nil, err
	}
	covered := map[string]bool{}
	for _, s := range own {
		covered[path.Clean(s.Target)] = true
	}
	for _, s := range more {
		if !covered[path.Clean(s.Target)] {
			covered[path.Clean(s.Target)] = true
			own = append(own, s)
		}
	}
	return own, nil
}

// validate applies docker's mount config checks to a parsed spec.
func (s *Spec) validate() error {
	if !path.IsAbs(s.Target) {
		return invalidConfig(s.Type, fmt.Sprintf("invalid mount path: '%s' mount path must be absolute", s.Target))
	}
	if path.Clean(s.Target) == "/" {
		return errdefs.ErrInvalidArgument.WithMessage("invalid specification: destination can't be '/'")
	}
	switch s.Type {
	case mount.TypeBind:
		if s.NoCopy {
			return invalidConfig(s.Type, "field VolumeOptions must not be specified")
		}
		if s.Propagation == "" {
			s.Propagation = mount.PropagationRPrivate
		}
	case mount.TypeVolume:
		if s.Propagation != "" {
			return invalidConfig(s.Type, "field BindOptions must not be specified")
		}
		if s.Source != "" {
			return ValidateName(s.Source)
		}
	}
	return nil
}

// nameChars are the characters docker allows in a local volume's name.
const nameChars = `[a-zA-Z0-9][a-zA-Z0-9_.-]`

var namePattern = regexp.MustCompile(`^` + nameChars + `+$`)

// ValidateName refuses a local volume name docker refuses, with its
// message; a relative host path given as a source lands here, as in docker.
func ValidateName(name string) error {
	if len(name) == 1 {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("create %s: volume name is too short, names should be at least two alphanumeric characters", name))
	}
	if !namePattern.MatchString(name) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("create %s: %q includes invalid characters for a local volume name, only %q are allowed. If you intended to pass a host directory, use absolute path", name, name, nameChars))
	}
	return nil
}

// propagations are the bind propagation modes Linux has.
var propagations = []mount.Propagation{
	mount.PropagationPrivate, mount.PropagationRPrivate,
	mount.PropagationShared, mount.PropagationRShared,
	mount.PropagationSlave, mount.PropagationRSlave,
}

// TmpfsData returns the mount data of a --mount tmpfs entry as docker
// writes it: the size in the largest unit that divides it, the mode in
// octal, ro when read-only.
func (s Spec) TmpfsData() string {
	var opts []string
	if size := s.TmpfsSize; size != 0 {
		suffix := ""
		for _, u := range []struct {
			suffix string
			div    int64
		}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
			if size%u.div == 0 {
				size, suffix = size/u.div, u.suffix
				break
			}
		}
		opts = append(opts, fmt.Sprintf("size=%d%s", size, suffix))
	}
	if s.TmpfsMode != 0 {
		opts = append(opts, fmt.Sprintf("mode=%o", s.TmpfsMode))
	}
	if s.ReadOnly {
		opts = append(opts, "ro")
	}
	return strings.Join(opts, ",")
}

type mode struct {
	readOnly    bool
	noCopy      bool
	propagation mount.Propagation
}

// parseMode parses a comma-separated mode: at most one of each kind
// (rw/ro, z/Z, a propagation, nocopy, a consistency).
func parseMode(raw string) (mode, error) {
	var m mode
	if raw == "" {
		return m, nil
	}
	seen := map[string]bool{}
	for _, o := range strings.Split(raw, ",") {
		var kind string
		switch o {
		case "rw", "ro":
			kind, m.readOnly = "rw", o == "ro"
		case "z", "Z":
			// SELinux relabelling; a no-op on hosts without SELinux, as in docker
			kind = "label"
		case "nocopy":
			kind, m.noCopy = "copy", true
		case "consistent", "cached", "delegated":
			kind = "consistency"
		case "private", "rprivate", "shared", "rshared", "slave", "rslave":
			kind, m.propagation = "propagation", mount.Propagation(o)
		default:
			return mode{}, invalidMode(raw)
		}
		if seen[kind] {
			return mode{}, invalidMode(raw)
		}
		seen[kind] = true
	}
	return m, nil
}

func invalidSpec(raw string) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid volume specification: '%s'", raw))
}

func invalidMode(mode string) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid mode: %s", mode))
}

func invalidConfig(t mount.Type, msg string) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid mount config for type %q: %s", t, msg))
}

// ParseVolumesFrom parses one --volumes-from entry, `container[:mode]`,
// with docker's rules: the mode is rw (the default: each mount keeps its
// own) or ro (every mount read-only), with an optional z or Z.
func ParseVolumesFrom(raw string) (ref string, readOnly bool, err error) {
	if raw == "" {
		return "", false, errdefs.ErrInvalidArgument.WithMessage("volume-from specification cannot be an empty string")
	}
	ref, modeRaw, _ := strings.Cut(raw, ":")
	m, err := parseMode(modeRaw)
	if err != nil {
		return "", false, err
	}
	if m.propagation != "" || m.noCopy {
		return "", false, invalidMode(modeRaw)
	}
	return ref, m.readOnly, nil
}

// Inherit returns, as a --mount entry, the mount a container takes from
// another with --volumes-from: the same source and target, read-only
// when either says so, a volume never copied up again (as docker).
func (s Spec) Inherit(readOnly bool) mount.Mount {
	m := mount.Mount{Type: s.Type, Source: s.Source, Target: s.Target, ReadOnly: s.ReadOnly || readOnly}
	switch s.Type {
	case mount.TypeBind:
		m.BindOptions = &mount.BindOptions{Propagation: s.Propagation}
	case mount.TypeVolume:
		m.VolumeOptions = &mount.VolumeOptions{NoCopy: true}
	case mount.TypeTmpfs:
		m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: s.TmpfsSize, Mode: s.TmpfsMode}
	}
	return m
}
