package runtime

import (
	"regexp"
	"strings"

	"github.com/containerd/errdefs"
)

// ExecFailure is why the runtime could not execute a container's command.
// Its values are stable names: the shim carries them over its socket.
type ExecFailure string

const (
	// CommandNotFound: the command does not exist (not in $PATH, or no such
	// file). Docker's exit code 127.
	CommandNotFound ExecFailure = "not-found"
	// CommandNotInvocable: the command exists but cannot be run (permission
	// denied, not executable, a directory). Docker's exit code 126.
	CommandNotInvocable ExecFailure = "not-invocable"
)

// ExitCode is docker's exit code for a container whose command failed so:
// 127 when it was not found, 126 when it could not be invoked.
func (f ExecFailure) ExitCode() int {
	if f == CommandNotInvocable {
		return 126
	}
	return 127
}

// ExecError is a container whose process the runtime created but whose
// command it could not execute. Msg is the runtime's message, which docker's
// CLI reads too (it derives its exit code from the words in it). An ExecError
// is an errdefs.ErrInvalidArgument: the container's configuration is at
// fault, and dockerd answers 400.
type ExecError struct {
	Failure ExecFailure
	Msg     string
}

func (e *ExecError) Error() string { return e.Msg }

// Unwrap gives the errdefs class.
func (e *ExecError) Unwrap() error { return errdefs.ErrInvalidArgument }

// mountTypeHint is what dockerd adds to a runtime error about a mount
// whose source and target are not both folders or both files.
const mountTypeHint = "Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type"

// classify maps a runtime's error message to a typed error, keeping the
// message intact. It is the one place where the runtime's text is read.
func classify(msg string) error {
	msg = runcWording(msg)
	if f, ok := execFailure(msg); ok {
		if f == CommandNotInvocable && !strings.Contains(strings.ToLower(msg), "permission denied") {
			// dockerd appends EACCES's text for EISDIR, so that docker's
			// CLI, which looks for it, exits 126 (moby's setExitCodeFromError)
			msg += ": permission denied"
		}
		return &ExecError{Failure: f, Msg: msg}
	}
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "not a directory"):
		// a mount of a file on a folder or the reverse: dockerd's hint and
		// its 400 (moby's translateContainerdStartErr)
		return errdefs.ErrInvalidArgument.WithMessage(msg + ": " + mountTypeHint)
	case strings.Contains(m, "does not exist"), strings.Contains(m, "not running"),
		strings.Contains(m, "process already finished"):
		return errdefs.ErrNotFound.WithMessage(msg)
	case strings.Contains(m, "already exists"):
		return errdefs.ErrAlreadyExists.WithMessage(msg)
	case strings.Contains(m, "cannot start"), strings.Contains(m, "not stopped"),
		strings.Contains(m, "already running"), strings.Contains(m, "is paused"), strings.Contains(m, "not paused"),
		strings.Contains(m, "not in created state"):
		return errdefs.ErrConflict.WithMessage(msg)
	}
	return errdefs.ErrUnknown.WithMessage(msg)
}

// execFailure recognises the runtime's report of a command it could not
// execute. runc reports Go's exec.LookPath errors (`exec: "foo": executable
// file not found in $PATH`, `exec: "/x": stat /x: no such file or
// directory`, `exec: "/etc": permission denied`); crun its own (`executable
// file `foo` not found in $PATH`, `open executable: Permission denied`).
// Only messages about the exec step count: a missing mount source is not a
// missing command.
func execFailure(msg string) (ExecFailure, bool) {
	m := strings.ToLower(msg)
	if !strings.Contains(m, `exec: "`) && !strings.Contains(m, "executable") && !strings.Contains(m, "exec user process") {
		return "", false
	}
	switch {
	case strings.Contains(m, "permission denied"), strings.Contains(m, "is a directory"),
		strings.Contains(m, "operation not permitted"): // crun's execveat of a folder
		return CommandNotInvocable, true
	case strings.Contains(m, "not found"), strings.Contains(m, "no such file or directory"),
		strings.Contains(m, "not a directory"):
		return CommandNotFound, true
	}
	return "", false
}

// crunNotFound is crun's report of a command it could not find.
var crunNotFound = regexp.MustCompile("executable file `([^`]*)` not found in \\$PATH: No such file or directory")

// crunErrnos are the C library's texts of the errors crun reports, which
// runc (Go) writes in lower case.
var crunErrnos = strings.NewReplacer(
	": No such file or directory", ": no such file or directory",
	": Not a directory", ": not a directory",
	": Is a directory", ": is a directory",
	": Permission denied", ": permission denied",
	": Operation not permitted", ": operation not permitted",
	": File exists", ": file exists",
)

// runcWording gives crun's reports in runc's words, which are dockerd's:
// docker's CLI reads them, case-sensitively, to choose its exit code (127
// for "executable file not found" or "no such file or directory", 126 for
// "permission denied"), and users and their scripts see the same messages
// whichever runtime berthd runs. runc's own messages are returned unchanged.
func runcWording(msg string) string {
	msg = crunNotFound.ReplaceAllStringFunc(msg, func(s string) string {
		name := crunNotFound.FindStringSubmatch(s)[1]
		if strings.Contains(name, "/") {
			return `exec: "` + name + `": stat ` + name + ": no such file or directory"
		}
		return `exec: "` + name + `": executable file not found in $PATH`
	})
	return crunErrnos.Replace(msg)
}
