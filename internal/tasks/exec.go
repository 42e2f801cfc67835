package tasks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/shim"
)

// Exec is one exec session: a process created for a container and run,
// once, in it by the container's shim.
type Exec struct {
	ID          string
	ContainerID string
	Tty         bool
	// Meta is the caller's description of the exec (for inspect).
	Meta    any
	process []byte

	mu       sync.Mutex
	started  bool
	running  bool
	pid      int
	exitCode *int
	resize   func(width, height uint16) error
	runs     chan struct{}   // closed once the process runs
	kill     <-chan struct{} // closed to SIGKILL the process (a probe's timeout)
	done     chan struct{}   // closed once the exec ended
}

// ExecState is an exec's state as inspect shows it.
type ExecState struct {
	Running  bool
	Pid      int
	ExitCode *int // nil until the process ended
}

// ExecStreams are the client's streams for one exec; nil ones are not attached.
type ExecStreams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// NewExec registers an exec of process (a runtime-spec process, JSON) for
// containerID; it runs on StartExec.
func (s *Supervisor) NewExec(containerID string, process []byte, tty bool, meta any) *Exec {
	var b [32]byte
	_, _ = rand.Read(b[:])
	e := &Exec{ID: hex.EncodeToString(b[:]), ContainerID: containerID, Tty: tty, Meta: meta, process: process, runs: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	s.execs[e.ID] = e
	s.mu.Unlock()
	return e
}

// Exec returns the exec session id; errdefs.ErrNotFound when there is none.
func (s *Supervisor) Exec(id string) (*Exec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.execs[id]; ok {
		return e, nil
	}
	return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("No such exec instance: %s", id))
}

// forgetExecsLocked drops the exec sessions of a container that exited, as
// dockerd does, except those still streaming their last output: their
// clients read the exit code next. s.mu is held.
func (s *Supervisor) forgetExecsLocked(containerID string) {
	for id, e := range s.execs {
		if e.ContainerID != containerID {
			continue
		}
		e.mu.Lock()
		streaming := e.started && e.exitCode == nil
		e.mu.Unlock()
		if !streaming {
			delete(s.execs, id)
		}
	}
}

// StartExec runs e in its container's shim and streams its stdio until it
// exits; the exit code is then in e's state. A command the runtime could
// not execute records docker's 127 or 126 and returns the
// *runtime.ExecError. An exec runs once: a second start is a conflict.
// When ctx ends first, StartExec returns and the process runs on.
func (s *Supervisor) StartExec(ctx context.Context, e *Exec, streams ExecStreams) error {
	t, err := s.claimExec(e)
	if err != nil {
		return err
	}
	select {
	case err := <-s.runExec(ctx, t, e, streams):
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StartExecDetached runs e in the background, its output discarded, and
// returns once the process runs, or the error that kept it from running.
func (s *Supervisor) StartExecDetached(ctx context.Context, e *Exec) error {
	t, err := s.claimExec(e)
	if err != nil {
		return err
	}
	result := s.runExec(ctx, t, e, ExecStreams{})
	select {
	case err := <-result:
		return err
	case <-e.runs:
		go func() {
			if err := <-result; err != nil {
				s.log.Warn("detached exec failed", "exec", e.ID, "container", e.ContainerID, "err", err)
			}
		}()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// claimExec marks e started, once, in its running container.
func (s *Supervisor) claimExec(e *Exec) (*Task, error) {
	t := s.Get(e.ContainerID)
	if t == nil {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", e.ContainerID))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("Error: Exec command %s has already run", e.ID))
	}
	e.started = true
	return t, nil
}

// runExec runs a claimed exec; the channel yields its end. The process runs
// until it exits whatever becomes of the client: its exit is recorded by a
// call that outlives ctx.
func (s *Supervisor) runExec(ctx context.Context, t *Task, e *Exec, streams ExecStreams) <-chan error {
	result := make(chan error, 1)
	go func() {
		code, err := t.shim.Exec(context.WithoutCancel(ctx), shim.ExecOpts{
			Process: e.process, Tty: e.Tty,
			Stdin: streams.Stdin, Stdout: streams.Stdout, Stderr: streams.Stderr,
			Kill: e.kill,
			Started: func(pid int, resize func(width, height uint16) error) {
				e.mu.Lock()
				e.running, e.pid, e.resize = true, pid, resize
				e.mu.Unlock()
				close(e.runs)
			},
		})
		if ee, ok := errors.AsType[*runtime.ExecError](err); ok {
			code, err = ee.Failure.ExitCode(), ee
		} else if err != nil {
			code = 126 // docker's code for an exec that could not be started
		}
		e.mu.Lock()
		e.running, e.exitCode = false, &code
		e.mu.Unlock()
		close(e.done)
		result <- err
	}()
	return result
}

// Running is closed once e's process runs.
func (e *Exec) Running() <-chan struct{} { return e.runs }

// Done is closed once e's process ended (or could not start).
func (e *Exec) Done() <-chan struct{} { return e.done }

// Resize sets e's terminal size; a no-op before it runs or without a TTY.
func (e *Exec) Resize(width, height uint16) error {
	e.mu.Lock()
	resize, running := e.resize, e.running
	e.mu.Unlock()
	if !running || resize == nil || !e.Tty {
		return nil
	}
	return resize(width, height)
}

// State is e's state now.
func (e *Exec) State() ExecState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return ExecState{Running: e.running, Pid: e.pid, ExitCode: e.exitCode}
}
