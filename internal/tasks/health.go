package tasks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/runtime"
)

// A container's healthcheck runs in berthd, as dockerd's does: one monitor
// goroutine per running container that has one, each probe an exec of the
// healthcheck's command through the container's shim (so it lives in the
// container, under runc, like any exec), the result recorded in the
// container's State.Health with docker's rules (container.RecordProbe) and
// persisted. The monitor lives as long as the task: it ends when the
// container exits (then docker reports it unhealthy) and when berthd shuts
// down; the next berthd resumes it on adoption, from the persisted state.

// startHealth resets c's health state for the run that just started and
// starts its monitor. c is locked.
func (s *Supervisor) startHealth(c *container.Container, t *Task) {
	hc, ok := container.ProbeConfig(c.Config)
	if !ok {
		return
	}
	c.State.StartHealth()
	started := c.State.StartedAt
	s.goTrack(func() { s.watchHealth(c, t, hc, started) })
}

// resumeHealth restarts the monitor of an adopted container from its
// persisted health state (a container adopted without one starts afresh).
// c is unlocked.
func (s *Supervisor) resumeHealth(c *container.Container, t *Task) {
	c.Lock()
	hc, ok := container.ProbeConfig(c.Config)
	if ok && c.State.Health == nil {
		c.State.StartHealth()
		s.host.Save(c)
	}
	started := c.State.StartedAt
	c.Unlock()
	if ok {
		s.goTrack(func() { s.watchHealth(c, t, hc, started) })
	}
}

// watchHealth probes c on docker's schedule until t's container exits or
// the supervisor closes. A probe under way when that happens is abandoned
// (its process ends with the container, or runs on in the shim) and its
// result dropped.
func (s *Supervisor) watchHealth(c *container.Container, t *Task, hc container.Healthcheck, started time.Time) {
	var probe *probeExec // derived once, at the first probe: the bundle is the run's
	var saved time.Time  // when a probe's result was last persisted
	timer := time.NewTimer(hc.NextProbe(time.Now(), started, containertypes.Starting))
	defer timer.Stop()
	for {
		if _, ok := await(s, c, t, timer.C); !ok {
			return
		}
		c.Lock()
		paused := c.State.Status == containertypes.StatePaused
		c.Unlock()
		if !paused { // a frozen container cannot run a probe: skip it
			if probe == nil {
				p, err := s.newProbeExec(c, hc)
				if err != nil {
					s.log.Warn("health check", "id", c.ID, "err", err)
				}
				probe = p
			}
			results := make(chan containertypes.HealthcheckResult, 1)
			go func() { results <- s.runProbe(t, c, hc, probe) }()
			r, ok := await(s, c, t, results)
			if !ok {
				return
			}
			s.recordProbe(c, t, hc, started, r, &saved)
			if probe != nil && probe.err != nil {
				probe = nil // try again to derive it next time
			}
		}
		c.Lock()
		status := c.State.HealthStatus()
		c.Unlock()
		timer.Reset(hc.NextProbe(time.Now(), started, status))
	}
}

// await returns ch's value, or false once t's container exited or the
// supervisor closed (c's health state then saved for the next berthd).
func await[T any](s *Supervisor, c *container.Container, t *Task, ch <-chan T) (T, bool) {
	var zero T
	select {
	case <-t.ctx.Done():
		s.saveHealth(c, t)
		return zero, false
	case <-t.done:
		return zero, false
	case v := <-ch:
		return v, true
	}
}

// probeExec is what every probe of a container's run execs.
type probeExec struct {
	process []byte
	meta    any
	err     error // the process could not be derived: each probe fails with it
}

func (s *Supervisor) newProbeExec(c *container.Container, hc container.Healthcheck) (*probeExec, error) {
	process, meta, err := s.host.ProbeExec(c, hc.Cmd)
	if err != nil {
		return &probeExec{err: err}, err
	}
	return &probeExec{process: process, meta: meta}, nil
}

// runProbe execs the healthcheck once in t's container and returns its
// result as docker words it: the exit code and output (cut at
// container.MaxProbeOutput), -1 and "Health check exceeded timeout (30s)"
// for a probe SIGKILLed at its timeout (counted from when it runs), -1 and
// the error for a probe that could not run.
func (s *Supervisor) runProbe(t *Task, c *container.Container, hc container.Healthcheck, p *probeExec) containertypes.HealthcheckResult {
	r := containertypes.HealthcheckResult{Start: time.Now()}
	fail := func(err error) containertypes.HealthcheckResult {
		r.ExitCode, r.Output, r.End = -1, err.Error(), time.Now()
		return r
	}
	if p.err != nil {
		return fail(p.err)
	}
	e := s.NewExec(c.ID, p.process, false, p.meta)
	defer s.dropExec(e.ID)
	// docker's events for a probe are those of any exec
	cmdline := strings.Join(hc.Cmd, " ")
	execID := map[string]string{"execID": e.ID}
	s.event(c, "exec_create: "+cmdline, execID)
	s.event(c, "exec_start: "+cmdline, execID)
	defer func() {
		if st := e.State(); st.ExitCode != nil {
			s.event(c, "exec_die", map[string]string{"execID": e.ID, "exitCode": strconv.Itoa(*st.ExitCode)})
		}
	}()
	kill := make(chan struct{})
	e.mu.Lock()
	e.started, e.kill = true, kill // nobody else may start it
	e.mu.Unlock()
	var timedOut atomic.Bool
	out := &container.ProbeOutput{}
	go func() {
		select {
		case <-e.runs:
		case <-e.done:
			return
		}
		timer := time.NewTimer(hc.Timeout)
		defer timer.Stop()
		select {
		case <-timer.C:
			timedOut.Store(true)
			close(kill)
		case <-e.done:
		}
	}()
	err := <-s.runExec(context.Background(), t, e, ExecStreams{Stdout: out, Stderr: out})
	r.End = time.Now()
	if timedOut.Load() {
		r.ExitCode, r.Output = -1, fmt.Sprintf("Health check exceeded timeout (%v)", hc.Timeout)
		if o := out.String(); o != "" {
			r.Output += ": " + o
		}
		return r
	}
	if err != nil {
		return fail(ExecStartError(err))
	}
	r.ExitCode, r.Output = *e.State().ExitCode, out.String()
	return r
}

// healthSaveEvery bounds how often a probe that changed only the health
// log is persisted: a change of status or failing streak is at once. 50
// containers probed every second then cost 5 record writes a second, not
// 50 (dockerd keeps probe results in memory only, until the container's
// next checkpoint).
const healthSaveEvery = 10 * time.Second

// recordProbe adds r to c's health state, if the run it probed still goes
// on, and persists it (see healthSaveEvery); saved is when it last was.
func (s *Supervisor) recordProbe(c *container.Container, t *Task, hc container.Healthcheck, started time.Time, r containertypes.HealthcheckResult, saved *time.Time) {
	c.Lock()
	defer c.Unlock()
	select {
	case <-t.done:
		return
	default:
	}
	st := c.State.Status
	if (st != containertypes.StateRunning && st != containertypes.StatePaused) || !c.State.StartedAt.Equal(started) {
		return
	}
	var streak int
	if c.State.Health != nil {
		streak = c.State.Health.FailingStreak
	}
	changed := c.State.RecordProbe(r, hc)
	if changed || streak != c.State.Health.FailingStreak || time.Since(*saved) >= healthSaveEvery {
		s.host.Save(c)
		*saved = time.Now()
	}
	if changed {
		s.host.Event(c, "health_status: "+string(c.State.Health.Status), nil)
	}
}

// event records an event about c, which is unlocked.
func (s *Supervisor) event(c *container.Container, action string, attrs map[string]string) {
	c.Lock()
	defer c.Unlock()
	s.host.Event(c, action, attrs)
}

// saveHealth persists c's health state as berthd shuts down: the log
// entries healthSaveEvery held back are kept for the next berthd.
func (s *Supervisor) saveHealth(c *container.Container, t *Task) {
	c.Lock()
	defer c.Unlock()
	select {
	case <-t.done:
	default:
		s.host.Save(c)
	}
}

// dropExec forgets exec session id.
func (s *Supervisor) dropExec(id string) {
	s.mu.Lock()
	delete(s.execs, id)
	s.mu.Unlock()
}

// ExecStartError words a command the runtime could not execute as dockerd
// does (docker's CLI shows it, and a health probe's log keeps it).
func ExecStartError(err error) error {
	if ee, ok := errors.AsType[*runtime.ExecError](err); ok {
		return &runtime.ExecError{Failure: ee.Failure, Msg: "OCI runtime exec failed: " + ee.Msg + ": unknown"}
	}
	return err
}
