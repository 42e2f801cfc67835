package runtime

import (
	"strings"

	"github.com/containerd/errdefs"
)

// classify maps a runtime's error message to an errdefs class, keeping the
// message intact: docker's CLI maps words in it ("executable file not found",
// "permission denied") to exit codes 127 and 126.
func classify(msg string) error {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "does not exist"), strings.Contains(m, "not running"),
		strings.Contains(m, "process already finished"):
		return errdefs.ErrNotFound.WithMessage(msg)
	case strings.Contains(m, "already exists"):
		return errdefs.ErrAlreadyExists.WithMessage(msg)
	case strings.Contains(m, "cannot start"), strings.Contains(m, "not stopped"),
		strings.Contains(m, "already running"), strings.Contains(m, "is paused"),
		strings.Contains(m, "not in created state"):
		return errdefs.ErrConflict.WithMessage(msg)
	case strings.Contains(m, "executable file not found"), strings.Contains(m, "no such file or directory"),
		strings.Contains(m, "permission denied"):
		// the command cannot be found or invoked: a configuration error (docker: 400, exit 127/126)
		return errdefs.ErrInvalidArgument.WithMessage(msg)
	}
	return errdefs.ErrUnknown.WithMessage(msg)
}
