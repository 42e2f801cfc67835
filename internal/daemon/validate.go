package daemon

import (
	"fmt"
	"maps"
	"path"
	"slices"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/volume"
)

// validateCreate refuses at create, with docker's 400 messages, what docker
// refuses at create, and what berth cannot honour yet, rather than failing
// at start or accepting and ignoring it. cfg is the request's own Config,
// before the image's is merged in (an image's declared volumes and exposed
// ports are not the request's). Pure: the daemon's state is not consulted.
func validateCreate(cfg *containertypes.Config, hc *containertypes.HostConfig) error {
	for _, check := range []func(*containertypes.Config, *containertypes.HostConfig) error{
		validateNetworkMode,
		validateRestart,
		validatePortBindings,
		validateLog,
		validateVolumes,
		validateHealthcheck,
		validateWorkingDir,
	} {
		if err := check(cfg, hc); err != nil {
			return err
		}
	}
	return nil
}

// validateLimits checks the resource limits against what the host's cgroups
// c support, and the isolation settings, with docker's messages: it returns
// docker's warnings for limits the host cannot enforce (which it removes
// from hc, as docker does), an error for impossible values.
func validateLimits(cfg *containertypes.Config, hc *containertypes.HostConfig, c oci.Cgroups) ([]string, error) {
	warnings, err := oci.VerifyResources(&hc.Resources, c, false)
	if err != nil {
		return warnings, err
	}
	if err := oci.VerifyIsolation(hc); err != nil {
		return warnings, err
	}
	if _, err := parseSignal(cfg.StopSignal, 0); err != nil {
		return warnings, err
	}
	return warnings, nil
}

func invalid(format string, args ...any) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, args...))
}

// validateNetworkMode refuses what docker refuses with container:<ref>: the
// joiner shares the other container's network stack, hostname and /etc
// files, so it can have none of its own (moby's validateNetContainerMode).
func validateNetworkMode(cfg *containertypes.Config, hc *containertypes.HostConfig) error {
	mode := hc.NetworkMode
	if !mode.IsContainer() && mode != "container" {
		return nil
	}
	switch {
	case mode.ConnectedContainer() == "":
		return invalid("Invalid network mode: invalid container format container:<name|id>")
	case cfg.Hostname != "":
		return invalid("conflicting options: hostname and the network mode")
	case len(hc.Links) > 0:
		return invalid("conflicting options: container type network can't be used with links. This would result in undefined behavior")
	case len(hc.DNS) > 0:
		return invalid("conflicting options: dns and the network mode")
	case len(hc.ExtraHosts) > 0:
		return invalid("conflicting options: custom host-to-IP mapping and the network mode")
	case len(hc.PortBindings) > 0 || hc.PublishAllPorts:
		return invalid("conflicting options: port publishing and the container type network mode")
	case len(cfg.ExposedPorts) > 0:
		return invalid("conflicting options: port exposing and the container type network mode")
	}
	return nil
}

// validateWorkingDir refuses a relative working directory at create, as
// dockerd does (moby's verifyContainerSettings): accepted, it would fail at
// every start with the runtime's "Cwd must be an absolute path", and compose
// would report a service it could not start rather than one it could not
// create.
func validateWorkingDir(cfg *containertypes.Config, _ *containertypes.HostConfig) error {
	if cfg.WorkingDir != "" && !path.IsAbs(cfg.WorkingDir) {
		return invalid("the working directory '%s' is invalid, it needs to be an absolute path", cfg.WorkingDir)
	}
	return nil
}

// validateRestart checks the restart policy with moby's own rules, and
// refuses it with --rm as docker does.
func validateRestart(_ *containertypes.Config, hc *containertypes.HostConfig) error {
	if err := containertypes.ValidateRestartPolicy(hc.RestartPolicy); err != nil {
		return invalid("%s", err.Error())
	}
	if hc.AutoRemove && !hc.RestartPolicy.IsNone() {
		return invalid("conflicting options: cannot specify both --restart and --rm")
	}
	return nil
}

// validatePortBindings refuses a host port that is not a port or a range of
// ports (moby's validatePortBindings); "" is any free port.
func validatePortBindings(_ *containertypes.Config, hc *containertypes.HostConfig) error {
	for port, bindings := range hc.PortBindings {
		if !port.IsValid() || port.Num() == 0 {
			return invalid("invalid port specification: %q", port.String())
		}
		for _, b := range bindings {
			if b.HostPort == "" {
				continue
			}
			if _, err := networktypes.ParsePortRange(b.HostPort); err != nil {
				return invalid("invalid port specification: %q", b.HostPort)
			}
		}
	}
	return nil
}

// validateLog checks the container's log driver and options (logconfig.go).
func validateLog(_ *containertypes.Config, hc *containertypes.HostConfig) error {
	return validateLogConfig(hc.LogConfig)
}

// validateVolumes checks -v specs, --mount entries, --tmpfs paths,
// --volumes-from entries and anonymous volume paths with docker's rules and
// messages.
func validateVolumes(cfg *containertypes.Config, hc *containertypes.HostConfig) error {
	specs, err := volume.Specs(hc.Binds, hc.Mounts)
	if err != nil {
		return err
	}
	targets := map[string]bool{}
	for _, spec := range specs {
		target := path.Clean(spec.Target)
		if targets[target] {
			return invalid("Duplicate mount point: %s", target)
		}
		targets[target] = true
	}
	for _, target := range slices.Sorted(maps.Keys(hc.Tmpfs)) {
		// HostConfig.Tmpfs (--tmpfs, compose's tmpfs:) has moby's
		// ValidateTmpfsMountDestination words, not --mount's
		if !path.IsAbs(target) {
			return invalid("invalid mount path: '%s' mount path must be absolute", target)
		}
		if path.Clean(target) == "/" {
			return invalid("invalid specification: destination can't be '/'")
		}
		if targets[path.Clean(target)] {
			return invalid("Duplicate mount point: %s", path.Clean(target))
		}
	}
	for target := range cfg.Volumes {
		if _, err := volume.Parse(target); err != nil {
			return err
		}
	}
	for _, from := range hc.VolumesFrom {
		if _, _, err := volume.ParseVolumesFrom(from); err != nil {
			return err
		}
	}
	return nil
}
