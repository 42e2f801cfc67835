package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
)

// fakeRuntime writes a shell script standing in for runc: it records its
// arguments and fails with msg logged the way runc logs (JSON on stderr or
// in the --log file).
func fakeRuntime(t *testing.T, msg string) (*Runtime, string) {
	t.Helper()
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	script := `#!/bin/sh
echo "$@" > ` + argsFile + `
log=""
while [ $# -gt 0 ]; do case "$1" in --log) log="$2"; shift;; esac; shift; done
line='{"level":"error","msg":"` + strings.ReplaceAll(msg, `"`, `\"`) + `","time":"2026-11-27T02:31:54Z"}'
if [ -n "$log" ]; then echo "$line" >> "$log"; echo "plain text to the container" >&2; else echo "$line" >&2; fi
exit 1
`
	path := filepath.Join(dir, "runc")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Runtime{Path: path, Root: filepath.Join(dir, "root")}, argsFile
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		msg  string
		call func(r *Runtime) error
		is   error // nil: the call must succeed
	}{
		{"create exec not found", `runc create failed: unable to start container process: exec: "foo": executable file not found in $PATH`,
			func(r *Runtime) error { return r.Create(ctx, "c1", "/b", CreateOpts{}) }, errdefs.ErrInvalidArgument},
		{"create other", "something broke",
			func(r *Runtime) error { return r.Create(ctx, "c1", "/b", CreateOpts{}) }, errdefs.ErrUnknown},
		{"kill not running", "container not running",
			func(r *Runtime) error { return r.Kill(ctx, "c1", syscall.SIGKILL, false) }, errdefs.ErrNotFound},
		{"kill missing", "container does not exist",
			func(r *Runtime) error { return r.Kill(ctx, "c1", syscall.SIGTERM, true) }, errdefs.ErrNotFound},
		{"start stopped", "cannot start a container that has stopped",
			func(r *Runtime) error { return r.Start(ctx, "c1") }, errdefs.ErrConflict},
		{"delete gone", "container does not exist",
			func(r *Runtime) error { return r.Delete(ctx, "c1", true) }, nil},
		{"delete running", "cannot delete container c1 that is not stopped: container is running",
			func(r *Runtime) error { return r.Delete(ctx, "c1", false) }, errdefs.ErrConflict},
		{"state missing", "container does not exist",
			func(r *Runtime) error { _, err := r.State(ctx, "c1"); return err }, errdefs.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := fakeRuntime(t, tt.msg)
			err := tt.call(r)
			if tt.is == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err %q lost the runtime's message %q", err, tt.msg)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	ctx := context.Background()
	r, argsFile := fakeRuntime(t, "x")
	r.Debug = true
	tests := []struct {
		call func() error
		want string
	}{
		{func() error { return r.Kill(ctx, "c1", syscall.SIGKILL, true) }, "kill --all c1 9"},
		{func() error { return r.Delete(ctx, "c1", true) }, "delete --force c1"},
		{func() error {
			return r.Create(ctx, "c1", "/b", CreateOpts{PidFile: "/p", ConsoleSocket: "/s"})
		}, "create --bundle /b --pid-file /p --console-socket /s c1"},
	}
	for _, tt := range tests {
		_ = tt.call()
		got, _ := os.ReadFile(argsFile)
		if !strings.HasPrefix(string(got), "--log-format json") || !strings.Contains(string(got), "--root "+r.Root) ||
			!strings.Contains(string(got), "--debug") || !strings.HasSuffix(strings.TrimSpace(string(got)), tt.want) {
			t.Errorf("args = %q, want ... %q", got, tt.want)
		}
	}
}
