package oci

import (
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seccompProfile returns the seccomp filter for s, whose capabilities are
// already set: docker's default profile for "" and "builtin", else the
// given profile JSON. Syscalls the profile ties to capabilities (or to
// kernel versions) are allowed or not accordingly.
func seccompProfile(s *specs.Spec, profile string) (*specs.LinuxSeccomp, error) {
	if profile == "" || profile == "builtin" {
		sc, err := seccomp.GetDefaultProfile(s)
		if err != nil {
			return nil, fmt.Errorf("default seccomp profile: %w", err)
		}
		return sc, nil
	}
	sc, err := seccomp.LoadProfile(profile, s)
	if err != nil {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("loading seccomp profile: %v", err))
	}
	return sc, nil
}
