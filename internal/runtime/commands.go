package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
)

// CreateOpts are the per-container settings of Create.
type CreateOpts struct {
	PidFile       string   // where the runtime writes the container's pid 1
	ConsoleSocket string   // unix socket receiving the pty master (process.terminal=true)
	Stdin         *os.File // the container's stdio; nil is /dev/null
	Stdout        *os.File
	Stderr        *os.File
	// Start runs the process at once (`run --detach`): one runtime
	// invocation instead of create then start.
	Start bool
}

// State is the runtime's view of a container (`runc state`).
type State struct {
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"` // created, running, paused, stopped
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Create creates container id from the bundle without starting its process.
// The container inherits the stdio files of opts; the error carries the
// runtime's own message (for example `exec: "foo": executable file not found
// in $PATH`), and is an *ExecError when the command could not be executed.
func (r *Runtime) Create(ctx context.Context, id, bundle string, opts CreateOpts) error {
	args := []string{"create", "--bundle", bundle}
	if opts.Start {
		args = []string{"run", "--detach", "--bundle", bundle}
	}
	if opts.PidFile != "" {
		args = append(args, "--pid-file", opts.PidFile)
	}
	if opts.ConsoleSocket != "" {
		args = append(args, "--console-socket", opts.ConsoleSocket)
	}
	return r.runWithStdio(ctx, "create", id, append(args, id), opts.Stdin, opts.Stdout, opts.Stderr)
}

// runWithStdio runs a command whose stdio becomes the container process's.
func (r *Runtime) runWithStdio(ctx context.Context, op, id string, args []string, stdin, stdout, stderr *os.File) error {
	// The runtime's stderr is the process's, so its errors are read from a
	// log file instead.
	logf, err := os.CreateTemp("", "berth-runtime-*.log")
	if err != nil {
		return fmt.Errorf("runtime %s %s: %w", op, id, err)
	}
	logPath := logf.Name()
	logf.Close()
	defer os.Remove(logPath)

	cmd := r.command(ctx, logPath, args...)
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("runtime %s %s: %w", op, id, err)
	}
	defer devnull.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = orFile(stdin, devnull), orFile(stdout, devnull), orFile(stderr, devnull)
	if err := r.runCmd(cmd); err != nil {
		return r.failWith(ctx, op, id, err, readLog(logPath))
	}
	return nil
}

// orFile avoids the typed-nil trap: a nil *os.File must become a nil
// io.Reader/Writer, here replaced by /dev/null.
func orFile(f, def *os.File) *os.File {
	if f == nil {
		return def
	}
	return f
}

// Start runs the user process of a created container.
func (r *Runtime) Start(ctx context.Context, id string) error {
	_, err := r.run(ctx, "start", id, "start", id)
	return err
}

// Kill sends sig to the container's pid 1, or to all its processes. A
// container that is gone or not running gives errdefs.ErrNotFound.
func (r *Runtime) Kill(ctx context.Context, id string, sig syscall.Signal, all bool) error {
	args := []string{"kill"}
	if all {
		args = append(args, "--all")
	}
	_, err := r.run(ctx, "kill", id, append(args, id, strconv.Itoa(int(sig)))...)
	return err
}

// Delete removes the runtime's state of the container; force kills it first
// if it still runs. A container already gone is not an error.
func (r *Runtime) Delete(ctx context.Context, id string, force bool) error {
	args := []string{"delete"}
	if force {
		args = append(args, "--force")
	}
	_, err := r.run(ctx, "delete", id, append(args, id)...)
	if errors.Is(err, errdefs.ErrNotFound) && ctx.Err() == nil {
		return nil
	}
	return err
}

// State returns the runtime's state of the container (errdefs.ErrNotFound
// when it does not exist).
func (r *Runtime) State(ctx context.Context, id string) (*State, error) {
	out, err := r.run(ctx, "state", id, "state", id)
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(out, &st); err != nil {
		return nil, fmt.Errorf("runtime state %s: decode: %w", id, err)
	}
	return &st, nil
}

// ExecOpts are the settings of one Exec.
type ExecOpts struct {
	ProcessFile   string   // the process to run (runtime-spec process, JSON)
	PidFile       string   // where the runtime writes the process's pid
	ConsoleSocket string   // unix socket receiving the pty master (terminal=true)
	Stdin         *os.File // the process's stdio; nil is /dev/null
	Stdout        *os.File
	Stderr        *os.File
}

// Exec starts an additional process in the running container id and
// returns once it runs (`exec --detach`): its parent is then the caller's
// subreaper. Errors are classified like Create's: an *ExecError when the
// command could not be executed.
func (r *Runtime) Exec(ctx context.Context, id string, opts ExecOpts) error {
	args := []string{"exec", "--detach", "--process", opts.ProcessFile}
	if opts.PidFile != "" {
		args = append(args, "--pid-file", opts.PidFile)
	}
	if opts.ConsoleSocket != "" {
		args = append(args, "--console-socket", opts.ConsoleSocket)
	}
	return r.runWithStdio(ctx, "exec", id, append(args, id), opts.Stdin, opts.Stdout, opts.Stderr)
}

// Run runs container id from the bundle in the foreground (`runc run`)
// with the caller's stdio, until its process exits, and removes it: the
// runtime alone, as the benchmarks time it.
func (r *Runtime) Run(ctx context.Context, id, bundle string) error {
	cmd := r.command(ctx, "", "run", "--bundle", bundle, id)
	if err := r.runCmd(cmd); err != nil {
		return r.failWith(ctx, "run", id, err, "")
	}
	return nil
}
