package oci

import (
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
)

// hostCapabilities returns the capabilities containers may have here:
// available lists them, nil means every capability berth knows.
func hostCapabilities(available []string) []string {
	if available == nil {
		return slices.Clone(knownCapabilities)
	}
	return slices.Clone(available)
}

// normalizeCapabilities upper-cases names and adds the "CAP_" prefix, keeping
// the magic "ALL"; unknown or unsupported names are invalid arguments.
func normalizeCapabilities(names []string, available []string) ([]string, error) {
	supported := hostCapabilities(available)
	out, err := knownCapabilityNames(names)
	if err != nil {
		return nil, err
	}
	for _, n := range out {
		if n != "ALL" && !slices.Contains(supported, n) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("capability not supported by your kernel or not available in the current environment: %q", n))
		}
	}
	return out, nil
}

// knownCapabilityNames normalizes names as docker does (case, "CAP_"
// prefix, "ALL"), refusing names no kernel knows: what docker checks at
// create, whatever this host supports.
func knownCapabilityNames(names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.ToUpper(n)
		if n != "ALL" && !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		if n != "ALL" && !slices.Contains(knownCapabilities, n) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unknown capability: %q", n))
		}
		out = append(out, n)
	}
	return out, nil
}

// tweakCapabilities applies docker's rules: privileged gets every
// capability; CapAdd ALL gives every capability but those dropped; CapDrop
// ALL keeps only those added; otherwise drop from the defaults, then add.
func tweakCapabilities(defaults, add, drop []string, privileged bool, available []string) ([]string, error) {
	if privileged {
		return hostCapabilities(available), nil
	}
	if len(add) == 0 && len(drop) == 0 {
		return defaults, nil
	}
	adds, err := normalizeCapabilities(add, available)
	if err != nil {
		return nil, err
	}
	drops, err := normalizeCapabilities(drop, available)
	if err != nil {
		return nil, err
	}
	var caps []string
	switch {
	case slices.Contains(adds, "ALL"):
		for _, c := range hostCapabilities(available) {
			if !slices.Contains(drops, c) {
				caps = append(caps, c)
			}
		}
	case slices.Contains(drops, "ALL"):
		caps = adds
	default:
		for _, c := range defaults {
			if !slices.Contains(drops, c) {
				caps = append(caps, c)
			}
		}
		caps = append(caps, adds...)
	}
	// Adding a capability twice (or one in the defaults) must not list it twice.
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}
