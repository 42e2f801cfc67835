//go:build !linux

package runtime

import (
	"os/exec"
)

// hybridWithV2Controllers is Linux-only: no host is hybrid elsewhere.
func hybridWithV2Controllers() bool { return false }

// startInV1View is never needed off Linux.
func startInV1View(cmd *exec.Cmd) error { return cmd.Start() }
