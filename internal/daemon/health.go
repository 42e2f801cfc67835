package daemon

import (
	"encoding/json"
	"fmt"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/container"
)

// ProbeExec is what a health probe of c execs, as dockerd builds it: the
// command with the container's user, working directory and environment, no
// TTY, no stdin, output captured, not privileged.
func (h host) ProbeExec(c *container.Container, cmd []string) ([]byte, any, error) {
	c.Lock()
	req := &containertypes.ExecCreateRequest{
		Cmd:          cmd,
		AttachStdout: true,
		AttachStderr: true,
		User:         c.Config.User,
		WorkingDir:   c.Config.WorkingDir,
	}
	c.Unlock()
	process, err := h.d.execProcess(c, req)
	if err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(process)
	if err != nil {
		return nil, nil, fmt.Errorf("health check: encode process: %w", err)
	}
	return data, req, nil
}

// Event records an event about c for the supervisor (health_status, the
// probes' exec_* events).
func (h host) Event(c *container.Container, action string, attrs map[string]string) {
	h.d.logContainerEvent(c, events.Action(action), attrs)
}

// validateHealthcheck refuses, in dockerd's words and order, the
// healthcheck settings docker refuses at create (zero means the image's or
// docker's default).
func validateHealthcheck(cfg *containertypes.Config, _ *containertypes.HostConfig) error {
	h := cfg.Healthcheck
	if h == nil {
		return nil
	}
	tooShort := func(d time.Duration) bool { return d != 0 && d < containertypes.MinimumDuration }
	switch {
	case tooShort(h.Interval):
		return invalid("Interval in Healthcheck cannot be less than %s", containertypes.MinimumDuration)
	case tooShort(h.Timeout):
		return invalid("Timeout in Healthcheck cannot be less than %s", containertypes.MinimumDuration)
	case h.Retries < 0:
		return invalid("Retries in Healthcheck cannot be negative")
	case tooShort(h.StartPeriod):
		return invalid("StartPeriod in Healthcheck cannot be less than %s", containertypes.MinimumDuration)
	case tooShort(h.StartInterval):
		return invalid("StartInterval in Healthcheck cannot be less than %s", containertypes.MinimumDuration)
	}
	return nil
}
