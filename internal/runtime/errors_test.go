package runtime

import (
	"errors"
	"testing"

	"github.com/containerd/errdefs"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		msg     string
		failure ExecFailure // "" when not an exec failure
		class   error
		want    string // the message carried; "" is msg unchanged
	}{
		{msg: `runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH`, failure: CommandNotFound},
		{msg: `unable to start container process: exec: "/no/such": stat /no/such: no such file or directory`, failure: CommandNotFound},
		{msg: `unable to start container process: exec: "/etc/passwd/x": stat /etc/passwd/x: not a directory`, failure: CommandNotFound},
		{msg: `unable to start container process: exec: "/etc": permission denied`, failure: CommandNotInvocable},
		{msg: `unable to start container process: exec: "/etc": is a directory`, failure: CommandNotInvocable,
			want: `unable to start container process: exec: "/etc": is a directory: permission denied`},
		// crun's messages, in runc's words
		{msg: "runtime create c1: executable file `nosuchcmd` not found in $PATH: No such file or directory", failure: CommandNotFound,
			want: `runtime create c1: exec: "nosuchcmd": executable file not found in $PATH`},
		{msg: "executable file `/no/such` not found in $PATH: No such file or directory", failure: CommandNotFound,
			want: `exec: "/no/such": stat /no/such: no such file or directory`},
		{msg: "open executable: Permission denied", failure: CommandNotInvocable, want: "open executable: permission denied"},
		{msg: "open executable: Operation not permitted", failure: CommandNotInvocable,
			want: "open executable: operation not permitted: permission denied"},
		{msg: "mount `/f` to `etc`: Not a directory", class: errdefs.ErrInvalidArgument, // crun
			want: "mount `/f` to `etc`: not a directory: " + mountTypeHint},
		{msg: `error mounting "/x" to rootfs at "/y": stat /x: no such file or directory`, class: errdefs.ErrUnknown},
		{msg: `unable to start container process: exec: "/bin/x": exec format error`, class: errdefs.ErrUnknown},
		{msg: `error mounting "/f" to rootfs at "/etc": mount /f:/etc (via /proc/self/fd/6), flags: 0x5000: not a directory`, class: errdefs.ErrInvalidArgument,
			want: `error mounting "/f" to rootfs at "/etc": mount /f:/etc (via /proc/self/fd/6), flags: 0x5000: not a directory: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type`},
		{msg: "container does not exist", class: errdefs.ErrNotFound},
		{msg: "container with id exists: c1 already exists", class: errdefs.ErrAlreadyExists},
		{msg: "cannot start a container that has stopped", class: errdefs.ErrConflict},
		{msg: "container not paused", class: errdefs.ErrConflict}, // runc resume of a thawed container
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			err := classify(tt.msg)
			want := tt.want
			if want == "" {
				want = tt.msg
			}
			if err.Error() != want {
				t.Errorf("message = %q, want %q", err, want)
			}
			var ee *ExecError
			if tt.failure == "" {
				if errors.As(err, &ee) {
					t.Fatalf("classified as exec failure %q", ee.Failure)
				}
				if !errors.Is(err, tt.class) {
					t.Fatalf("err = %#v, want %v", err, tt.class)
				}
				return
			}
			if !errors.As(err, &ee) || ee.Failure != tt.failure {
				t.Fatalf("err = %#v, want exec failure %q", err, tt.failure)
			}
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("exec failure is not an invalid argument")
			}
		})
	}
}

func TestExecFailureExitCode(t *testing.T) {
	if got := CommandNotFound.ExitCode(); got != 127 {
		t.Errorf("not found: %d", got)
	}
	if got := CommandNotInvocable.ExitCode(); got != 126 {
		t.Errorf("not invocable: %d", got)
	}
}
