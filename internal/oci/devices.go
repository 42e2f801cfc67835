package oci

import (
	"regexp"
	"strconv"

	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// deviceCgroupRule is the syntax of --device-cgroup-rule: type, major:minor
// (numbers or *), access.
var deviceCgroupRule = regexp.MustCompile(`^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$`)

// ParseDeviceCgroupRule reads a --device-cgroup-rule such as "c 1:3 rwm" or
// "b *:* m" into an allow rule.
func ParseDeviceCgroupRule(rule string) (specs.LinuxDeviceCgroup, error) {
	m := deviceCgroupRule.FindStringSubmatch(rule)
	if m == nil {
		return specs.LinuxDeviceCgroup{}, invalid("invalid device cgroup rule format: '%s'", rule)
	}
	r := specs.LinuxDeviceCgroup{Allow: true, Type: m[1], Access: m[4]}
	for i, p := range []**int64{&r.Major, &r.Minor} {
		if m[2+i] == "*" {
			continue
		}
		n, err := strconv.ParseInt(m[2+i], 10, 64)
		if err != nil {
			return specs.LinuxDeviceCgroup{}, invalid("invalid device cgroup rule format: '%s'", rule)
		}
		*p = &n
	}
	return r, nil
}

// setDevices allows the default devices, or every host device for a
// privileged container, then adds the --device nodes (with their
// permissions) and the --device-cgroup-rule rules.
func setDevices(s *specs.Spec, hc *containertypes.HostConfig, _ *Options, h *Host) error {
	if hc.Privileged {
		s.Linux.Devices = append(s.Linux.Devices, h.Devices...)
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	} else {
		s.Linux.Resources.Devices = defaultDeviceRules()
	}
	for _, d := range hc.Devices {
		devs, err := DevicesFromPath(d.PathOnHost, d.PathInContainer)
		if err != nil {
			return err
		}
		perms := d.CgroupPermissions
		if perms == "" {
			perms = "rwm"
		}
		for _, dev := range devs {
			s.Linux.Devices = append(s.Linux.Devices, dev)
			major, minor := dev.Major, dev.Minor
			s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: dev.Type, Major: &major, Minor: &minor, Access: perms})
		}
	}
	for _, rule := range hc.DeviceCgroupRules {
		r, err := ParseDeviceCgroupRule(rule)
		if err != nil {
			return err
		}
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, r)
	}
	return nil
}
