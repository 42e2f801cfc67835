package cli

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/mount"
)

// parseMounts turns --mount values (docker's CSV syntax:
// type=bind|volume|tmpfs,source=,target=,readonly,bind-propagation=,
// volume-nocopy,tmpfs-size=,tmpfs-mode=)
// into HostConfig.Mounts; the daemon checks what the entries mean.
func parseMounts(values []string) ([]mount.Mount, error) {
	var out []mount.Mount
	for _, v := range values {
		m, err := parseMount(v)
		if err != nil {
			return nil, fmt.Errorf("invalid argument %q for \"--mount\" flag: %w", v, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func parseMount(value string) (mount.Mount, error) {
	fields, err := csv.NewReader(strings.NewReader(value)).Read()
	if err != nil {
		return mount.Mount{}, err
	}
	m := mount.Mount{Type: mount.TypeVolume}
	boolValue := func(key, val string, hasVal bool) (bool, error) {
		if !hasVal {
			return true, nil
		}
		b, err := strconv.ParseBool(val)
		if err != nil {
			return false, fmt.Errorf("invalid value for %s: %s", key, val)
		}
		return b, nil
	}
	for _, f := range fields {
		key, val, hasVal := strings.Cut(f, "=")
		switch strings.ToLower(key) {
		case "readonly", "ro":
			if m.ReadOnly, err = boolValue(key, val, hasVal); err != nil {
				return mount.Mount{}, err
			}
			continue
		case "volume-nocopy":
			nocopy, err := boolValue(key, val, hasVal)
			if err != nil {
				return mount.Mount{}, err
			}
			if m.VolumeOptions == nil {
				m.VolumeOptions = &mount.VolumeOptions{}
			}
			m.VolumeOptions.NoCopy = nocopy
			continue
		}
		if !hasVal {
			return mount.Mount{}, fmt.Errorf("invalid field '%s' must be a key=value pair", f)
		}
		switch strings.ToLower(key) {
		case "type":
			m.Type = mount.Type(strings.ToLower(val))
		case "source", "src":
			m.Source = val
		case "target", "dst", "destination":
			m.Target = val
		case "bind-propagation":
			if m.BindOptions == nil {
				m.BindOptions = &mount.BindOptions{}
			}
			m.BindOptions.Propagation = mount.Propagation(strings.ToLower(val))
		case "tmpfs-size":
			size, err := units.RAMInBytes(val)
			if err != nil {
				return mount.Mount{}, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			if m.TmpfsOptions == nil {
				m.TmpfsOptions = &mount.TmpfsOptions{}
			}
			m.TmpfsOptions.SizeBytes = size
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return mount.Mount{}, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			if m.TmpfsOptions == nil {
				m.TmpfsOptions = &mount.TmpfsOptions{}
			}
			m.TmpfsOptions.Mode = os.FileMode(mode)
		case "consistency":
			m.Consistency = mount.Consistency(strings.ToLower(val))
		default:
			return mount.Mount{}, fmt.Errorf("unexpected key '%s' in '%s'", key, f)
		}
	}
	switch {
	case m.Target == "":
		return mount.Mount{}, fmt.Errorf("target is required")
	case m.VolumeOptions != nil && m.Type != mount.TypeVolume:
		return mount.Mount{}, fmt.Errorf("cannot mix 'volume-*' options with mount type '%s'", m.Type)
	case m.BindOptions != nil && m.Type != mount.TypeBind:
		return mount.Mount{}, fmt.Errorf("cannot mix 'bind-*' options with mount type '%s'", m.Type)
	case m.TmpfsOptions != nil && m.Type != mount.TypeTmpfs:
		return mount.Mount{}, fmt.Errorf("cannot mix 'tmpfs-*' options with mount type '%s'", m.Type)
	}
	return m, nil
}
