package tasks_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/tasks"
)

func TestExecRunsInTheContainersShim(t *testing.T) {
	tests := []struct {
		name     string
		play     func(ctx context.Context, o shim.ExecOpts) (int, error)
		startErr error // the runtime could not start the process
		wantCode int
		wantErr  func(error) bool
	}{
		{"exit code", func(ctx context.Context, o shim.ExecOpts) (int, error) {
			fmt.Fprint(o.Stdout, "out")
			return 3, nil
		}, nil, 3, nil},
		{"command not found", nil, &runtime.ExecError{Failure: runtime.CommandNotFound, Msg: "not found"}, 127, func(err error) bool { _, ok := errors.AsType[*runtime.ExecError](err); return ok }},
		{"not invocable", nil, &runtime.ExecError{Failure: runtime.CommandNotInvocable, Msg: "permission denied"}, 126, func(err error) bool { _, ok := errors.AsType[*runtime.ExecError](err); return ok }},
		{"shim failure", func(ctx context.Context, o shim.ExecOpts) (int, error) {
			return 0, errdefs.ErrUnavailable.WithMessage("shim gone")
		}, nil, 126, errdefs.IsUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, l, _ := newSupervisor(t)
			start(t, s, newContainer("c1", "", 0))
			var got []byte
			l.ExecErr = tt.startErr
			l.ExecFunc = func(ctx context.Context, o shim.ExecOpts) (int, error) {
				got = o.Process
				return tt.play(ctx, o)
			}
			e := s.NewExec("c1", []byte(`{"args":["x"]}`), false, "meta")
			if found, err := s.Exec(e.ID); err != nil || found != e {
				t.Fatalf("Exec(%s) = %v, %v", e.ID, found, err)
			}
			var out bytes.Buffer
			err := s.StartExec(context.Background(), e, tasks.ExecStreams{Stdout: &out})
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !tt.wantErr(err) {
				t.Fatalf("StartExec: %v", err)
			}
			if tt.startErr == nil && string(got) != `{"args":["x"]}` {
				t.Errorf("shim got process %s", got)
			}
			st := e.State()
			if tt.wantCode == 3 && out.String() != "out" {
				t.Errorf("stdout %q, want the process's", out.String())
			}
			if st.Running || st.ExitCode == nil || *st.ExitCode != tt.wantCode {
				t.Errorf("state %+v, want exited %d", st, tt.wantCode)
			}
			select {
			case <-e.Done():
			default:
				t.Error("Done not closed after the exec ended")
			}
			if err := s.StartExec(context.Background(), e, tasks.ExecStreams{}); !errdefs.IsConflict(err) {
				t.Errorf("second start: %v, want a conflict", err)
			}
		})
	}
}

func TestExecRefusedWithoutARunningContainer(t *testing.T) {
	s, _, _ := newSupervisor(t)
	e := s.NewExec("gone", []byte(`{}`), false, nil)
	err := s.StartExec(context.Background(), e, tasks.ExecStreams{})
	if !errdefs.IsConflict(err) || err.Error() != "container gone is not running" {
		t.Errorf("StartExec in a container that does not run: %v", err)
	}
	if _, err := s.Exec("nope"); !errdefs.IsNotFound(err) {
		t.Errorf("Exec(unknown) = %v, want not found", err)
	}
}

// A client that goes away does not end the exec: its exit is still recorded.
func TestExecOutlivesItsClient(t *testing.T) {
	s, l, _ := newSupervisor(t)
	start(t, s, newContainer("c1", "", 0))
	release := make(chan struct{})
	l.ExecFunc = func(ctx context.Context, o shim.ExecOpts) (int, error) {
		<-release
		return 5, ctx.Err()
	}
	e := s.NewExec("c1", []byte(`{}`), true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.StartExec(ctx, e, tasks.ExecStreams{Stdout: io.Discard}) }()
	<-e.Running()
	if st := e.State(); !st.Running || st.Pid == 0 {
		t.Errorf("state while running %+v", st)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("StartExec after the client left: %v", err)
	}
	close(release)
	<-e.Done()
	if st := e.State(); st.ExitCode == nil || *st.ExitCode != 5 {
		t.Errorf("exit after the client left %+v, want 5 recorded", st)
	}
}

func TestExecsForgottenWithTheirContainer(t *testing.T) {
	s, l, _ := newSupervisor(t)
	start(t, s, newContainer("c1", "", 0))
	start(t, s, newContainer("c2", "", 0))
	ended := s.NewExec("c1", []byte(`{}`), false, nil)
	if err := s.StartExec(context.Background(), ended, tasks.ExecStreams{}); err != nil {
		t.Fatal(err)
	}
	unstarted := s.NewExec("c1", []byte(`{}`), false, nil)
	other := s.NewExec("c2", []byte(`{}`), false, nil)
	l.Shim("/run/test/c1").Exit(0)
	eventually(t, "c1's exit", func() bool { return s.Get("c1") == nil })
	for _, e := range []*tasks.Exec{ended, unstarted} {
		if _, err := s.Exec(e.ID); !errdefs.IsNotFound(err) {
			t.Errorf("exec of the exited container still known: %v", err)
		}
	}
	if _, err := s.Exec(other.ID); err != nil {
		t.Errorf("exec of the running container forgotten: %v", err)
	}
}

func TestExecDetached(t *testing.T) {
	s, l, _ := newSupervisor(t)
	start(t, s, newContainer("c1", "", 0))
	release := make(chan struct{})
	l.ExecFunc = func(ctx context.Context, o shim.ExecOpts) (int, error) {
		if o.Stdin != nil || o.Stdout != nil || o.Stderr != nil {
			t.Error("a detached exec was given streams")
		}
		<-release
		return 2, nil
	}
	e := s.NewExec("c1", []byte(`{}`), false, nil)
	if err := s.StartExecDetached(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if st := e.State(); !st.Running {
		t.Errorf("StartExecDetached returned before the process ran: %+v", st)
	}
	if err := s.StartExecDetached(context.Background(), e); !errdefs.IsConflict(err) {
		t.Errorf("second start: %v, want a conflict", err)
	}
	close(release)
	<-e.Done()
	if st := e.State(); st.ExitCode == nil || *st.ExitCode != 2 {
		t.Errorf("detached exec's exit %+v, want 2", st)
	}

	l.ExecErr = &runtime.ExecError{Failure: runtime.CommandNotFound, Msg: "not found"}
	e = s.NewExec("c1", []byte(`{}`), false, nil)
	if err := s.StartExecDetached(context.Background(), e); err == nil {
		t.Error("a detached exec that could not run reported no error")
	}
}
