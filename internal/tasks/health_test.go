package tasks_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/tasks"
	"github.com/berth-project/berth/internal/tasks/taskstest"
)

func healthContainer(id string, hc *containertypes.HealthConfig) *container.Container {
	c := newContainer(id, "", 0)
	c.Config.Healthcheck = hc
	return c
}

func healthOf(c *container.Container) *containertypes.Health {
	c.Lock()
	defer c.Unlock()
	return c.State.Inspect().Health
}

// TestHealthProbesThroughTheShim: the probes are execs in the container's
// shim, their output and code land in State.Health, and they stop with the
// container, which docker then calls unhealthy.
func TestHealthProbesThroughTheShim(t *testing.T) {
	s, l, h := newSupervisor(t)
	var probes atomic.Int32
	l.ExecFunc = func(ctx context.Context, o shim.ExecOpts) (int, error) {
		if string(o.Process) != `{"args":["probe"]}` || o.Tty || o.Stdin != nil {
			t.Errorf("probe exec %s tty %v stdin %v", o.Process, o.Tty, o.Stdin != nil)
		}
		probes.Add(1)
		_, _ = o.Stdout.Write([]byte("out "))
		_, _ = o.Stderr.Write([]byte("err"))
		return 0, nil
	}
	c := healthContainer("hc1", &containertypes.HealthConfig{Test: []string{"CMD", "probe"}, Interval: 10 * time.Millisecond})
	start(t, s, c)
	if h := healthOf(c); h == nil || h.Status != containertypes.Starting {
		t.Fatalf("health right after start %+v, want starting", h)
	}
	eventually(t, "healthy", func() bool { h := healthOf(c); return h.Status == containertypes.Healthy && len(h.Log) >= 2 })
	if h := healthOf(c); h.Log[0].Output != "out err" || h.Log[0].ExitCode != 0 || h.Log[0].End.Before(h.Log[0].Start) {
		t.Errorf("probe result %+v", h.Log[0])
	}
	h.mu.Lock()
	events := slices.Clone(h.events)
	h.mu.Unlock()
	if len(events) < 5 || !reflect.DeepEqual(events[:5], []string{"exec_create: probe", "exec_start: probe", "exec_die", "health_status: healthy", "exec_create: probe"}) {
		t.Errorf("events %q, want docker's exec events per probe and health_status once", events)
	}
	l.Shim("/run/test/hc1").Exit(0)
	eventually(t, "the exit", func() bool { return state(c).Status == containertypes.StateExited })
	n := probes.Load()
	time.Sleep(50 * time.Millisecond)
	if got := probes.Load(); got > n+1 { // one may have been under way
		t.Errorf("%d probes after the exit", got-n)
	}
	if h := healthOf(c); h.Status != containertypes.Unhealthy {
		t.Errorf("after the exit: %s, want unhealthy", h.Status)
	}
}

// TestHealthProbeTimeoutAndErrors: a probe past its timeout is killed and
// logged as docker does; one the runtime cannot run is a failure with its
// message.
func TestHealthProbeTimeoutAndErrors(t *testing.T) {
	s, l, _ := newSupervisor(t)
	var killed atomic.Int32
	l.ExecFunc = func(ctx context.Context, o shim.ExecOpts) (int, error) {
		_, _ = o.Stdout.Write([]byte("slow"))
		<-o.Kill
		killed.Add(1)
		return 137, nil
	}
	c := healthContainer("hc2", &containertypes.HealthConfig{Test: []string{"CMD-SHELL", "sleep 9"}, Interval: 5 * time.Millisecond, Timeout: 20 * time.Millisecond, Retries: 2})
	start(t, s, c)
	eventually(t, "unhealthy", func() bool { return healthOf(c).Status == containertypes.Unhealthy })
	h := healthOf(c)
	if r := h.Log[0]; r.ExitCode != -1 || r.Output != "Health check exceeded timeout (20ms): slow" || r.End.Sub(r.Start) < 20*time.Millisecond {
		t.Errorf("timed-out probe %+v", r)
	}
	if h.FailingStreak < 2 || killed.Load() < 2 {
		t.Errorf("streak %d, %d probes killed", h.FailingStreak, killed.Load())
	}

	l.ExecFunc = nil
	l.ExecErr = &runtime.ExecError{Failure: runtime.CommandNotFound, Msg: `exec: "probe": executable file not found in $PATH`}
	eventually(t, "the runtime's message", func() bool {
		h := healthOf(c)
		r := h.Log[len(h.Log)-1]
		return r.ExitCode == -1 && r.Output == `OCI runtime exec failed: exec: "probe": executable file not found in $PATH: unknown`
	})
	if _, err := s.Exec("no-such"); err == nil {
		t.Error("unknown exec found")
	}
}

// TestHealthResumesOnAdoption: an adopted container keeps its health state
// and is probed again.
func TestHealthResumesOnAdoption(t *testing.T) {
	s, l, _ := newSupervisor(t)
	var fail atomic.Bool
	l.ExecFunc = func(ctx context.Context, o shim.ExecOpts) (int, error) {
		if fail.Load() {
			return 1, nil
		}
		return 0, nil
	}
	c := healthContainer("hc3", &containertypes.HealthConfig{Test: []string{"CMD", "probe"}, Interval: 5 * time.Millisecond, Retries: 1})
	start(t, s, c)
	eventually(t, "healthy", func() bool { return healthOf(c).Status == containertypes.Healthy })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, _, _ := newSupervisorWith(t, l)
	c.Lock()
	if c.State.Health.Status != containertypes.Healthy {
		t.Errorf("closing the supervisor changed the health to %s", c.State.Health.Status)
	}
	c.Unlock()
	fail.Store(true)
	s2.Adopt(context.Background(), c, "/run/test/hc3")
	eventually(t, "probes by the new supervisor", func() bool { return healthOf(c).Status == containertypes.Unhealthy })
}

func newSupervisorWith(t *testing.T, l *taskstest.Launcher) (*tasks.Supervisor, *taskstest.Launcher, *host) {
	t.Helper()
	h := &host{removed: map[string]bool{}}
	s := tasks.New(tasks.Config{Launcher: l, Host: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { _ = s.Close() })
	return s, l, h
}
