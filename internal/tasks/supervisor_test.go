package tasks_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/tasks"
	"github.com/berth-project/berth/internal/tasks/taskstest"
)

// host is a fake tasks.Host that records what the supervisor asked.
type host struct {
	mu           sync.Mutex
	prepareErr   error
	prepared     int
	released     []string
	failed       []error
	autoRemoved  []string
	orphans      []string
	runtimeKnows bool // KillOrphan finds the container in the runtime
	removed      map[string]bool
	events       []string
	saved        []string // the status of each record saved
}

func (h *host) Prepare(ctx context.Context, c *container.Container) (shim.Config, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prepared++
	if h.prepareErr != nil {
		return shim.Config{}, h.prepareErr
	}
	return shim.Config{ID: c.ID, StateDir: "/run/test/" + c.ID, Tty: c.Config.Tty}, nil
}

func (h *host) StartFailed(c *container.Container, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed = append(h.failed, err)
	c.State.Error = err.Error()
}

func (h *host) Release(ctx context.Context, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.released = append(h.released, id)
}

func (h *host) Save(c *container.Container) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.saved = append(h.saved, string(c.State.Status))
}

func (h *host) savedStates() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.saved)
}

func (h *host) Changed(c *container.Container) {}

func (h *host) Exists(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.removed[id]
}

func (h *host) AutoRemove(ctx context.Context, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.autoRemoved = append(h.autoRemoved, id)
}

func (h *host) KillOrphan(ctx context.Context, id string) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.orphans = append(h.orphans, id)
	return h.runtimeKnows, nil
}

func (h *host) ProbeExec(c *container.Container, cmd []string) ([]byte, any, error) {
	return []byte(`{"args":["probe"]}`), nil, nil
}

func (h *host) Event(c *container.Container, action string, attrs map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, action)
}

func (h *host) snapshot() (released []string, failed []error, autoRemoved []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.released), slices.Clone(h.failed), slices.Clone(h.autoRemoved)
}

func newSupervisor(t *testing.T) (*tasks.Supervisor, *taskstest.Launcher, *host) {
	t.Helper()
	l := taskstest.NewLauncher()
	h := &host{removed: map[string]bool{}}
	s := tasks.New(tasks.Config{Launcher: l, Host: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { _ = s.Close() })
	return s, l, h
}

func newContainer(id string, policy containertypes.RestartPolicyMode, maxRetries int) *container.Container {
	c := &container.Container{
		ID:         id,
		Config:     &containertypes.Config{},
		HostConfig: &containertypes.HostConfig{RestartPolicy: containertypes.RestartPolicy{Name: policy, MaximumRetryCount: maxRetries}},
	}
	c.State.Status = containertypes.StateCreated
	return c
}

func start(t *testing.T, s *tasks.Supervisor, c *container.Container) {
	t.Helper()
	c.Lock()
	defer c.Unlock()
	if err := s.Start(context.Background(), c); err != nil {
		t.Fatalf("start: %v", err)
	}
}

func state(c *container.Container) container.State {
	c.Lock()
	defer c.Unlock()
	return c.State
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestStartRunsProcessAtOnce(t *testing.T) {
	s, l, _ := newSupervisor(t)
	c := newContainer("c1", "", 0)
	start(t, s, c)
	starts := l.Starts()
	if len(starts) != 1 || !starts[0].StartNow || starts[0].HoldOutput || starts[0].ID != "c1" {
		t.Fatalf("launcher asked %+v, want one StartNow start of c1 without held output", starts)
	}
	st := state(c)
	if st.Status != containertypes.StateRunning || st.Pid != l.Shim("/run/test/c1").Pid() {
		t.Errorf("state %s pid %d, want running with the shim's pid", st.Status, st.Pid)
	}
	if s.Get("c1") == nil {
		t.Error("no live task after start")
	}
}

func TestStartFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		prepareErr error
		launchErr  error
		wantLaunch int
		wantClass  func(error) bool
	}{
		{"prepare fails", errdefs.ErrInvalidArgument.WithMessage("bad user"), nil, 0, errdefs.IsInvalidArgument},
		{"shim fails", nil, errors.New(`exec: "nosuch": executable file not found in $PATH`), 1, errdefs.IsUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, l, h := newSupervisor(t)
			h.prepareErr, l.StartErr = tc.prepareErr, tc.launchErr
			c := newContainer("c1", "", 0)
			c.Lock()
			err := s.Start(context.Background(), c)
			c.Unlock()
			if err == nil || !tc.wantClass(err) {
				t.Fatalf("start error %v: wrong class", err)
			}
			if n := len(l.Starts()); n != tc.wantLaunch {
				t.Errorf("%d shim starts, want %d", n, tc.wantLaunch)
			}
			released, failed, _ := h.snapshot()
			if !slices.Equal(released, []string{"c1"}) || len(failed) != 1 {
				t.Errorf("released %v, failures recorded %v; want c1 released and one failure", released, failed)
			}
			if st := state(c); st.Status != containertypes.StateCreated || s.Get("c1") != nil {
				t.Errorf("after a failed start: status %s, task %v", st.Status, s.Get("c1"))
			}
		})
	}
}

func TestExitIsRecordedAndShimReleased(t *testing.T) {
	s, l, h := newSupervisor(t)
	c := newContainer("c1", "", 0)
	start(t, s, c)
	task := s.Get("c1")
	l.Shim("/run/test/c1").Exit(3)
	<-task.Done()
	if st := state(c); st.Status != containertypes.StateExited || st.ExitCode != 3 {
		t.Errorf("after exit: %s %d, want exited 3", st.Status, st.ExitCode)
	}
	s.ShimGone("c1")
	if !l.Shim("/run/test/c1").ShutDown() {
		t.Error("the shim was not told to go")
	}
	if released, _, _ := h.snapshot(); !slices.Equal(released, []string{"c1"}) {
		t.Errorf("released %v, want the bundle of c1 once", released)
	}
	if s.Get("c1") != nil {
		t.Error("an exited container still has a task")
	}
}

func TestRestartPolicyRestartsWithBackoff(t *testing.T) {
	s, l, _ := newSupervisor(t)
	c := newContainer("c1", containertypes.RestartPolicyAlways, 0)
	start(t, s, c)
	exitedAt := time.Now()
	l.Shim("/run/test/c1").Exit(0)
	eventually(t, "a restart", func() bool { return len(l.Starts()) == 2 })
	if took := time.Since(exitedAt); took < tasks.MinRestartDelay {
		t.Errorf("restarted after %v, before the %v back-off", took, tasks.MinRestartDelay)
	}
	eventually(t, "running again", func() bool { return state(c).Status == containertypes.StateRunning })
	c.Lock()
	n := c.RestartCount
	c.Unlock()
	if n != 1 {
		t.Errorf("RestartCount %d, want 1", n)
	}
}

func TestOnFailureGivesUpAfterMaxRetries(t *testing.T) {
	s, l, _ := newSupervisor(t)
	c := newContainer("c1", containertypes.RestartPolicyOnFailure, 1)
	start(t, s, c)
	l.Shim("/run/test/c1").Exit(2)
	eventually(t, "one restart", func() bool { return len(l.Starts()) == 2 && state(c).Status == containertypes.StateRunning })
	l.Shim("/run/test/c1").Exit(2)
	eventually(t, "exited for good", func() bool { return state(c).Status == containertypes.StateExited })
	time.Sleep(3 * tasks.MinRestartDelay)
	if n := len(l.Starts()); n != 2 {
		t.Errorf("%d starts, want 2 (no restart past the maximum)", n)
	}
}

func TestMarkStoppedCancelsPendingRestart(t *testing.T) {
	s, l, _ := newSupervisor(t)
	c := newContainer("c1", containertypes.RestartPolicyAlways, 0)
	c.RestartCount = 5 // a 3.2s back-off: the stop comes first
	start(t, s, c)
	l.Shim("/run/test/c1").Exit(1)
	eventually(t, "restarting", func() bool { return state(c).Status == containertypes.StateRestarting })
	if !s.MarkStopped(c) {
		t.Fatal("MarkStopped: a restarting container counts as running")
	}
	if st := state(c); st.Status != containertypes.StateExited || st.ExitCode != 1 {
		t.Errorf("after stop: %s %d, want exited 1", st.Status, st.ExitCode)
	}
	if s.MarkStopped(c) {
		t.Error("MarkStopped on an exited container reports it running")
	}
}

func TestStopSignalsThenKills(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ignore   []syscall.Signal
		want     []syscall.Signal
		wantCode int
	}{
		{"exits on the stop signal", nil, []syscall.Signal{syscall.SIGTERM}, 143},
		{"ignores it and is killed", []syscall.Signal{syscall.SIGTERM}, []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL}, 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, l, _ := newSupervisor(t)
			l.Ignore = tc.ignore
			c := newContainer("c1", containertypes.RestartPolicyAlways, 0)
			start(t, s, c)
			s.MarkStopped(c)
			if err := s.Stop(context.Background(), "c1", syscall.SIGTERM, 20*time.Millisecond); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if got := l.Shim("/run/test/c1").Signals(); !slices.Equal(got, tc.want) {
				t.Errorf("signals %v, want %v", got, tc.want)
			}
			if st := state(c); st.Status != containertypes.StateExited || st.ExitCode != tc.wantCode {
				t.Errorf("after stop: %s %d, want exited %d (a stopped container is not restarted)", st.Status, st.ExitCode, tc.wantCode)
			}
		})
	}
}

func TestKillNotRunningIsConflict(t *testing.T) {
	s, _, _ := newSupervisor(t)
	err := s.Kill(context.Background(), newContainer("c1", "", 0), syscall.SIGKILL)
	if !errdefs.IsConflict(err) {
		t.Errorf("kill of a container that does not run: %v, want a conflict", err)
	}
}

func TestAdopt(t *testing.T) {
	for _, tc := range []struct {
		name       string
		alive      bool
		recorded   *shim.ExitStatus
		wantStatus containertypes.ContainerState
		wantCode   int
		knows      bool // the runtime still knows the container
		wantError  string
	}{
		{"shim alive", true, nil, containertypes.StateRunning, 0, false, ""},
		{"shim gone, exit recorded", false, &shim.ExitStatus{Code: 7, ExitedAt: time.Now()}, containertypes.StateExited, 7, false, ""},
		{"shim gone, nothing recorded (a reboot)", false, nil, containertypes.StateExited, 255, false, ""},
		{"shim killed, container still there", false, nil, containertypes.StateExited, 137, true, "berth-shim exited unexpectedly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := taskstest.NewLauncher()
			old := tasks.New(tasks.Config{Launcher: l, Host: &host{removed: map[string]bool{}}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			c := newContainer("c1", "", 0)
			start(t, old, c)
			_ = old.Close() // the daemon goes, the shim stays
			if !tc.alive {
				l.Vanish("/run/test/c1", tc.recorded)
			}
			h := &host{removed: map[string]bool{}, runtimeKnows: tc.knows}
			s := tasks.New(tasks.Config{Launcher: l, Host: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			defer s.Close()
			s.Adopt(context.Background(), c, "/run/test/c1")
			if st := state(c); st.Status != tc.wantStatus || st.ExitCode != tc.wantCode || !strings.Contains(st.Error, tc.wantError) || (tc.wantError == "" && st.Error != "") {
				t.Fatalf("adopted: %s %d %q, want %s %d %q", st.Status, st.ExitCode, st.Error, tc.wantStatus, tc.wantCode, tc.wantError)
			}
			if h.mu.Lock(); !tc.alive && tc.recorded == nil && !slices.Equal(h.orphans, []string{"c1"}) {
				t.Errorf("orphans killed: %v, want c1", h.orphans)
			}
			h.mu.Unlock()
			if tc.alive {
				// the adopted shim is monitored: its exit is recorded
				l.Shim("/run/test/c1").Exit(4)
				eventually(t, "the exit recorded", func() bool { return state(c).Status == containertypes.StateExited })
				if code := state(c).ExitCode; code != 4 {
					t.Errorf("exit code %d, want 4", code)
				}
			} else if released, _, _ := h.snapshot(); !slices.Equal(released, []string{"c1"}) {
				t.Errorf("released %v, want c1's leftovers released", released)
			}
		})
	}
}

// TestDiscard: a start cut short by a crash, before the record said
// running, leaves a shim and its process, or only what Prepare set up; the
// next daemon kills the one and releases the other.
func TestDiscard(t *testing.T) {
	for _, alive := range []bool{true, false} {
		t.Run(fmt.Sprintf("shim alive %v", alive), func(t *testing.T) {
			l := taskstest.NewLauncher()
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			old := tasks.New(tasks.Config{Launcher: l, Host: &host{removed: map[string]bool{}}, Logger: quiet})
			c := newContainer("c1", "", 0)
			start(t, old, c)
			_ = old.Close()
			if !alive {
				l.Vanish("/run/test/c1", nil)
			}
			h := &host{removed: map[string]bool{}}
			s := tasks.New(tasks.Config{Launcher: l, Host: h, Logger: quiet})
			defer s.Close()
			s.Discard(context.Background(), "c1", "/run/test/c1")
			if alive {
				sh := l.Shim("/run/test/c1")
				if !sh.Exited() || !sh.ShutDown() || !slices.Equal(sh.Signals(), []syscall.Signal{syscall.SIGKILL}) {
					t.Errorf("shim: exited %v, shut down %v, signals %v; want killed and shut down", sh.Exited(), sh.ShutDown(), sh.Signals())
				}
			}
			if released, _, _ := h.snapshot(); !slices.Equal(released, []string{"c1"}) {
				t.Errorf("released %v, want c1's prepared state released", released)
			}
			if s.Get("c1") != nil {
				t.Errorf("the discarded container is tracked as running")
			}
		})
	}
}

func TestPendingAttachGetsHeldOutput(t *testing.T) {
	s, l, _ := newSupervisor(t)
	c := newContainer("c1", "", 0)
	p := s.AddPendingAttach("c1")
	go func() {
		<-p.Ready()
		p.Connected()
	}()
	start(t, s, c)
	cfg := l.Starts()[0]
	if !cfg.HoldOutput {
		t.Error("a start with a waiting attach did not ask the shim to hold the output")
	}
	if !l.Shim("/run/test/c1").Released() {
		t.Error("the held output was not released once the attach connected")
	}
	// the next start has no attach waiting
	task := s.Get("c1")
	l.Shim("/run/test/c1").Exit(0)
	<-task.Done()
	c.Lock()
	_ = c.State.SetExited(0, time.Now(), false)
	c.Unlock()
	start(t, s, c)
	if l.Starts()[1].HoldOutput {
		t.Error("the output is held although no attach waits")
	}
}

func TestAutoRemoveAfterExit(t *testing.T) {
	s, l, h := newSupervisor(t)
	c := newContainer("c1", "", 0)
	c.HostConfig.AutoRemove = true
	start(t, s, c)
	l.Shim("/run/test/c1").Exit(0)
	eventually(t, "auto-removal", func() bool { _, _, rm := h.snapshot(); return slices.Equal(rm, []string{"c1"}) })
	// removed next: its exit is not saved (after a crash, Adopt applies
	// the exit the shim recorded, removal included)
	if saved := h.savedStates(); !slices.Equal(saved, []string{"running"}) {
		t.Errorf("records saved with %v, want only the start's (running)", saved)
	}
}

func TestExitIsSaved(t *testing.T) {
	s, l, h := newSupervisor(t)
	c := newContainer("c1", "", 0)
	start(t, s, c)
	l.Shim("/run/test/c1").Exit(3)
	eventually(t, "the exit saved", func() bool { return slices.Equal(h.savedStates(), []string{"running", "exited"}) })
}

func TestCloseLeavesContainersRunning(t *testing.T) {
	s, l, _ := newSupervisor(t)
	c := newContainer("c1", "", 0)
	start(t, s, c)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	sh := l.Shim("/run/test/c1")
	if sh.Exited() || len(sh.Signals()) > 0 || sh.ShutDown() {
		t.Error("closing the supervisor touched the container")
	}
	time.Sleep(20 * time.Millisecond)
	if st := state(c); st.Status != containertypes.StateRunning {
		t.Errorf("after close the record says %s, want running", st.Status)
	}
}

func TestStartOnBoot(t *testing.T) {
	s, l, _ := newSupervisor(t)
	var cs []*container.Container
	for _, p := range []struct {
		id      string
		policy  containertypes.RestartPolicyMode
		stopped bool
	}{
		{"always", containertypes.RestartPolicyAlways, true},
		{"unless", containertypes.RestartPolicyUnlessStopped, false},
		{"unless-stopped-by-user", containertypes.RestartPolicyUnlessStopped, true},
		{"no", containertypes.RestartPolicyDisabled, false},
	} {
		c := newContainer(p.id, p.policy, 0)
		c.State.Status = containertypes.StateExited
		c.ManuallyStopped = p.stopped
		cs = append(cs, c)
	}
	s.StartOnBoot(context.Background(), cs)
	var started []string
	for _, cfg := range l.Starts() {
		started = append(started, cfg.ID)
	}
	if !slices.Equal(started, []string{"always", "unless"}) {
		t.Errorf("started on boot %v, want [always unless]", started)
	}
}
