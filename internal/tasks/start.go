package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/trace"
)

// Start runs the sequence that turns a container record into a running
// process: wait for the previous run's shim, let the host prepare the
// bundle, start the shim (which runs the process), connect the attaches
// waiting for it, record the container as running and monitor its exit.
// c is locked.
func (s *Supervisor) Start(ctx context.Context, c *container.Container) (retErr error) {
	began, tr := time.Now(), trace.From(ctx)
	s.ShimGone(c.ID) // the previous run's shim must be done with the bundle
	tr.Step("start previous shim gone", began)
	defer func() {
		if retErr != nil {
			s.host.Release(context.WithoutCancel(ctx), c.ID)
			s.host.StartFailed(c, retErr)
		}
	}()
	cfg, err := s.host.Prepare(ctx, c)
	if err != nil {
		return err
	}
	prepared := time.Now()
	// The process runs as the shim starts it (one runtime invocation); the
	// attaches waiting for this start get the output from its first byte,
	// which the shim holds for them until they are connected.
	hold := s.hasPendingAttaches(c.ID)
	cfg.StartNow, cfg.HoldOutput = true, hold
	sh, err := s.launcher.Start(ctx, cfg)
	if err != nil {
		return startError(err)
	}
	created := time.Now()
	t := s.track(c.ID, cfg.StateDir, sh)
	t.trace = tr
	s.connectPendingAttaches(c.ID, sh)
	if hold {
		if err := sh.Release(ctx); err != nil {
			s.log.Warn("release held output", "id", c.ID, "err", err)
		}
	}
	c.State.Error = ""
	c.ManuallyStopped = false
	if err := c.State.SetRunning(sh.Pid(), time.Now().UTC()); err != nil {
		return err
	}
	s.startHealth(c, t)
	tr.Step("start attaches and state", created)
	step := time.Now()
	s.host.Save(c)
	tr.Step("start save record", step)
	s.host.Changed(c)
	s.goTrack(func() { s.monitor(c, t) })
	s.log.Debug("container started", "id", c.ID, "prepare", prepared.Sub(began), "create", created.Sub(prepared), "total", time.Since(began))
	return nil
}

// startError is docker's error for a task that could not be created: the
// runtime's exec failures keep their class (dockerd's 400), the others are
// unknown (500).
func startError(err error) error {
	if _, ok := errors.AsType[*runtime.ExecError](err); ok {
		return fmt.Errorf("failed to create task for container: %w", err)
	}
	return errdefs.ErrUnknown.WithMessage(fmt.Sprintf("failed to create task for container: %v", err))
}

// monitor waits for the container's exit and records it.
func (s *Supervisor) monitor(c *container.Container, t *Task) {
	st, err := t.shim.Wait(t.ctx)
	if tr := t.trace; tr != nil && err == nil {
		// the process ran from the runtime's start to its exit; the
		// shim then reported the exit
		if ran, ok := t.shim.(interface{ Started() time.Time }); ok {
			tr.SpanFrom("shim", "process runs until its exit", ran.Started(), st.ExitedAt)
		}
		tr.Span("exit report (shim to berthd)", st.ExitedAt, time.Now())
	}
	if t.ctx.Err() != nil {
		return // the daemon is shutting down: the shim keeps the container
	}
	reason := ""
	if err != nil {
		s.log.Error("lost contact with shim", "id", c.ID, "err", err)
		saved, ok, _ := s.launcher.ExitStatus(t.stateDir)
		st = saved
		if !ok {
			st, reason = s.orphaned(c.ID)
		}
	}
	s.exitedWith(c, t, st, reason)
}

// shimDied is the State.Error of a container whose shim died under it.
const shimDied = "berth-shim exited unexpectedly (killed?): the container was killed"

// orphaned stops the container of a shim that died without recording an
// exit: its process may still run, reparented to init, and the runtime
// still knows the id (a restart would fail with "container with given ID
// already exists"). It is killed and deleted, and reported as killed by
// SIGKILL (137) with a reason, as containerd reports a dead shim's task.
// A container the runtime no longer knows (the host rebooted) exited at an
// unknown time: 255, docker's code for that.
func (s *Supervisor) orphaned(id string) (shim.ExitStatus, string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	known, err := s.host.KillOrphan(ctx, id)
	if err != nil {
		s.log.Warn("kill the container of a dead shim", "id", id, "err", err)
	}
	if !known {
		return shim.ExitStatus{Code: 255, ExitedAt: time.Now().UTC()}, ""
	}
	s.log.Error(shimDied, "id", id)
	return shim.ExitStatus{Code: 137, ExitedAt: time.Now().UTC()}, shimDied
}

// exited records an exit, releases the container's runtime resources and
// applies its restart policy or --rm. t is nil when the shim was already
// gone (found so at boot).
func (s *Supervisor) exited(c *container.Container, t *Task, st shim.ExitStatus) {
	s.exitedWith(c, t, st, "")
}

// exitedWith is exited, with reason (when not empty) recorded as the
// container's State.Error.
func (s *Supervisor) exitedWith(c *container.Container, t *Task, st shim.ExitStatus, reason string) {
	ctx := context.Background()
	var tr *trace.Trace
	if t != nil {
		tr = t.trace
		ctx = trace.With(ctx, tr)
	}
	step := time.Now()
	c.Lock()
	restart := ShouldRestart(c.HostConfig.RestartPolicy, c.ManuallyStopped, c.RestartCount, st.Code)
	c.State.StopHealth()
	if restart {
		if err := c.State.SetRestarting(st.Code, st.ExitedAt); err != nil {
			s.log.Warn("record exit", "id", c.ID, "err", err)
		}
	} else if err := c.State.SetExited(st.Code, st.ExitedAt, st.OOMKilled); err != nil {
		s.log.Warn("record exit", "id", c.ID, "err", err)
	}
	if reason != "" {
		c.State.Error = reason
	}
	tr.Step("exit record", step)
	step = time.Now()
	if !c.HostConfig.AutoRemove || restart {
		// A --rm container's exit is not saved: it is removed next, and
		// if a crash comes first, the boot finds it recorded running, its
		// shim gone, and applies the exit the shim recorded, removal
		// included (Adopt).
		s.host.Save(c)
	}
	tr.Step("exit save record", step)
	s.host.Changed(c)
	delay := RestartDelay(c.RestartCount, c.State.FinishedAt.Sub(c.State.StartedAt))
	autoRemove := c.HostConfig.AutoRemove
	c.Unlock()
	if t != nil {
		s.releaseShim(c.ID, t)
	} else {
		s.host.Release(ctx, c.ID)
	}
	if restart {
		s.scheduleRestart(c, delay)
		return
	}
	if autoRemove {
		step := time.Now()
		s.host.AutoRemove(ctx, c.ID)
		tr.Step("auto-remove", step)
	}
}

// releaseShim lets the shim of an exited container delete it from the
// runtime and go, then has the host release the bundle. Waiters learn of the
// exit without waiting for this: Start and Remove wait for it (ShimGone).
func (s *Supervisor) releaseShim(id string, t *Task) {
	gone := make(chan struct{})
	s.mu.Lock()
	delete(s.running, id)
	s.stopping[id] = gone
	s.forgetExecsLocked(id)
	s.mu.Unlock()
	close(t.done)
	s.goTrack(func() {
		step := time.Now()
		if err := t.shim.Shutdown(context.Background()); err != nil {
			s.log.Debug("shim shutdown", "id", id, "err", err)
		}
		_ = t.shim.Close()
		t.trace.Step("teardown shim shutdown (runtime delete)", step)
		step = time.Now()
		s.host.Release(trace.With(context.Background(), t.trace), id)
		t.trace.Step("teardown release (network, unmount, bundle)", step)
		s.mu.Lock()
		delete(s.stopping, id)
		s.mu.Unlock()
		close(gone)
	})
}

// ShimGone waits until the shim of a container that just exited has
// finished, so that its bundle can be reused or removed.
func (s *Supervisor) ShimGone(id string) {
	s.mu.Lock()
	gone, ok := s.stopping[id]
	s.mu.Unlock()
	if ok {
		<-gone
	}
}
