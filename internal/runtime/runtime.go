// Package runtime drives an OCI runtime (runc, crun) through its command
// line: create, start, kill, delete and state of one container. The binary
// is configuration, so tests can substitute a fake that fails on purpose.
package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"

	"github.com/containerd/errdefs"
)

// Runtime is one OCI runtime binary and its state directory.
type Runtime struct {
	Path  string // binary; "runc" (looked up in $PATH) when empty
	Root  string // --root: the runtime's state directory; the runtime's default when empty
	Debug bool   // --debug
}

// command builds an invocation with the global flags. Errors are logged as
// JSON so that the message can be told from the rest of the output.
func (r *Runtime) command(ctx context.Context, logPath string, args ...string) *exec.Cmd {
	path := r.binary()
	global := []string{"--log-format", "json"}
	if logPath != "" {
		global = append(global, "--log", logPath)
	}
	if r.Root != "" {
		global = append(global, "--root", r.Root)
	}
	if r.Debug {
		global = append(global, "--debug")
	}
	return exec.CommandContext(ctx, path, append(global, args...)...)
}

// run runs a command whose output is not the container's and returns its
// stdout; on failure the error carries the runtime's message.
func (r *Runtime) run(ctx context.Context, op, id string, args ...string) ([]byte, error) {
	cmd := r.command(ctx, "", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := r.runCmd(cmd); err != nil {
		return nil, r.fail(ctx, op, id, err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// fail turns a failed run into an error classified from the runtime's message.
func (r *Runtime) fail(ctx context.Context, op, id string, err error, output []byte) error {
	return r.failWith(ctx, op, id, err, errorMessage(output))
}

// failWith classifies a failed run whose runtime reported msg. A runtime
// that cannot be executed at all (missing, not executable, not a program)
// or that does not finish in time is named, so the user can tell it from
// a failure of the container.
func (r *Runtime) failWith(ctx context.Context, op, id string, err error, msg string) error {
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("runtime %s %s: OCI runtime %s did not finish in time (hung?): %w", op, id, r.binary(), ctx.Err())
		}
		return fmt.Errorf("runtime %s %s: %w", op, id, ctx.Err())
	}
	var execErr *exec.Error
	var pathErr *fs.PathError
	if errors.As(err, &execErr) || (errors.As(err, &pathErr) && pathErr.Op == "fork/exec") {
		return fmt.Errorf("runtime %s %s: %w", op, id, errdefs.ErrUnknown.WithMessage(fmt.Sprintf("OCI runtime %s cannot be run: %v", r.binary(), err)))
	}
	if msg == "" {
		msg = err.Error()
	}
	return fmt.Errorf("runtime %s %s: %w", op, id, classify(msg))
}

// binary is the runtime's program as configured.
func (r *Runtime) binary() string {
	if r.Path == "" {
		return "runc"
	}
	return r.Path
}

// errorMessage extracts the last error logged by the runtime: JSON log lines
// ({"level":"error","msg":...}) when it honours --log-format json, the raw
// text otherwise.
func errorMessage(out []byte) string {
	var last string
	var text []string
	for _, line := range bytes.Split(out, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if line[0] == '{' && json.Unmarshal(line, &entry) == nil {
			if entry.Level == "error" || entry.Level == "fatal" {
				last = entry.Msg
			}
			continue
		}
		text = append(text, string(line))
	}
	if last != "" {
		return last
	}
	return strings.Join(text, "\n")
}

// readLog returns the error logged in a --log file, "" when none.
func readLog(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return errorMessage(data)
}
