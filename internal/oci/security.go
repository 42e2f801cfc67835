package oci

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
)

// securityOpts is what berth honours of HostConfig.SecurityOpt.
type securityOpts struct {
	noNewPrivileges bool
	// seccomp is "" or "builtin" for the default profile, "unconfined" for
	// none, or a profile in JSON.
	seccomp string
}

// parseSecurityOpts reads --security-opt values with docker's syntax
// ("key=value", the legacy "key:value", and bare "no-new-privileges").
// SELinux labels and AppArmor profiles are accepted and ignored: berth sets
// neither. noNewPrivileges is the daemon's default, which the options may
// turn off ("no-new-privileges=false"), as dockerd's.
func parseSecurityOpts(opts []string, noNewPrivileges bool) (securityOpts, error) {
	so := securityOpts{noNewPrivileges: noNewPrivileges}
	for _, opt := range opts {
		if opt == "no-new-privileges" {
			so.noNewPrivileges = true
			continue
		}
		if opt == "disable" {
			continue
		}
		var k, v string
		var ok bool
		if strings.Contains(opt, "=") {
			k, v, ok = strings.Cut(opt, "=")
		} else {
			k, v, ok = strings.Cut(opt, ":")
		}
		if !ok {
			return so, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid --security-opt 1: %q", opt))
		}
		switch k {
		case "label", "apparmor":
		case "seccomp":
			so.seccomp = v
		case "no-new-privileges":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return so, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid --security-opt 2: %q", opt))
			}
			so.noNewPrivileges = b
		default:
			return so, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid --security-opt 2: %q", opt))
		}
	}
	return so, nil
}
