package container

import (
	"slices"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
)

// Docker's healthcheck defaults, for the fields a HEALTHCHECK or the
// --health-* options leave at zero.
const (
	DefaultProbeInterval = 30 * time.Second
	DefaultProbeTimeout  = 30 * time.Second
	DefaultStartPeriod   = 0
	DefaultStartInterval = 5 * time.Second
	DefaultProbeRetries  = 3

	// MaxHealthLog is how many probe results State.Health keeps, as docker.
	MaxHealthLog = 5
	// MaxProbeOutput is how much of a probe's output is kept; more is cut
	// and marked with "...", as docker does.
	MaxProbeOutput = 4096
)

// Healthcheck is a container's healthcheck with docker's defaults applied.
type Healthcheck struct {
	// Cmd is the command a probe runs: the CMD form's arguments, or the
	// shell and the CMD-SHELL form's command line.
	Cmd           []string
	Interval      time.Duration
	Timeout       time.Duration
	StartPeriod   time.Duration
	StartInterval time.Duration
	Retries       int
}

// ProbeConfig returns the healthcheck cfg asks for, or false when there is
// none: no Healthcheck, an empty test, NONE (--no-healthcheck) or a form
// docker does not know (which dockerd ignores with a warning).
func ProbeConfig(cfg *containertypes.Config) (Healthcheck, bool) {
	if cfg == nil || cfg.Healthcheck == nil || len(cfg.Healthcheck.Test) == 0 {
		return Healthcheck{}, false
	}
	h := cfg.Healthcheck
	var cmd []string
	switch h.Test[0] {
	case "CMD":
		cmd = slices.Clone(h.Test[1:])
	case "CMD-SHELL":
		shell := cfg.Shell
		if len(shell) == 0 {
			shell = []string{"/bin/sh", "-c"}
		}
		cmd = append(slices.Clone(shell), h.Test[1:]...)
	default:
		return Healthcheck{}, false
	}
	if len(cmd) == 0 {
		return Healthcheck{}, false
	}
	retries := h.Retries
	if retries <= 0 {
		retries = DefaultProbeRetries
	}
	return Healthcheck{
		Cmd:           cmd,
		Interval:      orDefault(h.Interval, DefaultProbeInterval),
		Timeout:       orDefault(h.Timeout, DefaultProbeTimeout),
		StartPeriod:   orDefault(h.StartPeriod, DefaultStartPeriod),
		StartInterval: orDefault(h.StartInterval, DefaultStartInterval),
		Retries:       retries,
	}, true
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// NextProbe is how long to wait before the next probe of a container
// started at started: every start interval while it is starting within its
// start period, then every interval, the first of those coming no later
// than the start period's end (docker's schedule).
func (h Healthcheck) NextProbe(now, started time.Time, status containertypes.HealthStatus) time.Duration {
	elapsed := now.Sub(started)
	if elapsed >= h.StartPeriod {
		return h.Interval
	}
	if status == containertypes.Starting {
		return h.StartInterval
	}
	return min(h.StartPeriod-elapsed, h.Interval)
}

// StartHealth resets the health state for a container that just started:
// starting, no failing streak, the previous runs' log kept (as docker).
func (s *State) StartHealth() {
	if s.Health == nil {
		s.Health = &containertypes.Health{Log: []*containertypes.HealthcheckResult{}}
	}
	s.Health.Status = containertypes.Starting
	s.Health.FailingStreak = 0
}

// StopHealth records that the container's probes stopped: docker then
// reports it unhealthy.
func (s *State) StopHealth() {
	if s.Health != nil {
		s.Health.Status = containertypes.Unhealthy
	}
}

// RecordProbe adds a probe's result to the health state with docker's
// rules and reports whether the status changed: a success makes the
// container healthy; a failure adds to the failing streak (unless the
// container is still starting within its start period), and retries
// failures in a row make it unhealthy. The log keeps the last
// MaxHealthLog results.
func (s *State) RecordProbe(r containertypes.HealthcheckResult, h Healthcheck) bool {
	if s.Health == nil {
		s.StartHealth()
	}
	hs := s.Health
	before := hs.Status
	if len(hs.Log) >= MaxHealthLog {
		hs.Log = slices.Clone(hs.Log[len(hs.Log)+1-MaxHealthLog:])
	}
	hs.Log = append(hs.Log, &r)
	if r.ExitCode == 0 {
		hs.FailingStreak = 0
		hs.Status = containertypes.Healthy
		return before != hs.Status
	}
	if hs.Status == containertypes.Starting && r.Start.Sub(s.StartedAt) < h.StartPeriod {
		return false
	}
	hs.FailingStreak++
	if hs.FailingStreak >= h.Retries {
		hs.Status = containertypes.Unhealthy
	}
	return before != hs.Status
}

// HealthStatus is the container's health as ps's health filter sees it:
// "none" when it has no health state.
func (s State) HealthStatus() containertypes.HealthStatus {
	if s.Health == nil {
		return containertypes.NoHealthcheck
	}
	return s.Health.Status
}

// healthText is the suffix of a running container's ps status.
func (s State) healthText() string {
	if s.Health == nil {
		return ""
	}
	if s.Health.Status == containertypes.Starting {
		return " (health: starting)"
	}
	return " (" + string(s.Health.Status) + ")"
}

// inspectHealth is a copy of the health state for inspect.
func (s State) inspectHealth() *containertypes.Health {
	if s.Health == nil {
		return nil
	}
	h := &containertypes.Health{Status: s.Health.Status, FailingStreak: s.Health.FailingStreak, Log: make([]*containertypes.HealthcheckResult, len(s.Health.Log))}
	for i, r := range s.Health.Log {
		v := *r
		h.Log[i] = &v
	}
	return h
}

// ProbeOutput collects a probe's output up to MaxProbeOutput bytes; what
// goes past is dropped and String ends with "...", as docker's does. Not
// safe for concurrent use: the shim client writes stdout and stderr from
// one goroutine.
type ProbeOutput struct {
	buf       []byte
	truncated bool
}

// Write keeps what fits and always accepts all of p.
func (o *ProbeOutput) Write(p []byte) (int, error) {
	keep := min(MaxProbeOutput-len(o.buf), len(p))
	if keep > 0 {
		o.buf = append(o.buf, p[:keep]...)
	}
	if keep < len(p) {
		o.truncated = true
	}
	return len(p), nil
}

// String is the output kept, "..." marking a cut.
func (o *ProbeOutput) String() string {
	if o.truncated {
		return string(o.buf) + "..."
	}
	return string(o.buf)
}
