package daemon

import (
	"context"
	"errors"
	"fmt"
	"github.com/moby/moby/api/types/events"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/runtime"
)

const defaultStopTimeout = 10

// ContainerStop sends the stop signal, waits up to the timeout, then kills.
// It reports true when the container was not running (docker's 304).
func (d *Daemon) ContainerStop(ctx context.Context, name string, signal string, timeout *int) (bool, error) {
	c, err := d.lookup(name)
	if err != nil {
		return false, err
	}
	sig, grace, err := stopParams(c, signal, timeout)
	if err != nil {
		return false, err
	}
	if !d.tasks.MarkStopped(c) {
		return true, nil
	}
	if err := d.stop(ctx, c, sig, grace); err != nil {
		return false, err
	}
	return false, nil
}

// stopParams are the signal and grace period of a stop: the request's, or
// else the container's, or else docker's SIGTERM and 10 seconds. A negative
// grace waits forever.
func stopParams(c *container.Container, signal string, timeout *int) (syscall.Signal, time.Duration, error) {
	c.Lock()
	defer c.Unlock()
	if signal == "" {
		signal = c.Config.StopSignal
	}
	sig, err := parseSignal(signal, syscall.SIGTERM)
	if err != nil {
		return 0, 0, err
	}
	secs := defaultStopTimeout
	if c.Config.StopTimeout != nil {
		secs = *c.Config.StopTimeout
	}
	if timeout != nil {
		secs = *timeout
	}
	return sig, time.Duration(secs) * time.Second, nil
}

// ContainerRestart stops the container if it runs, then starts it.
func (d *Daemon) ContainerRestart(ctx context.Context, name string, signal string, timeout *int) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	sig, grace, err := stopParams(c, signal, timeout)
	if err != nil {
		return err
	}
	done := d.restarts.enter(c.ID)
	defer done()
	if err := d.stop(ctx, c, sig, grace); err != nil {
		return fmt.Errorf("cannot restart container %s: %w", name, err)
	}
	c.Lock()
	defer c.Unlock()
	if c.State.Status != containertypes.StateRunning {
		if err := d.tasks.Start(ctx, c); err != nil {
			return err
		}
	}
	d.logContainerEvent(c, events.ActionRestart, nil)
	return nil
}

// stop is docker's stop of a running container with its events: kill (the
// stop signal), then die (from the exit), then stop. A container that does
// not run is left alone, without events.
func (d *Daemon) stop(ctx context.Context, c *container.Container, sig syscall.Signal, grace time.Duration) error {
	if d.task(c.ID) == nil {
		return nil
	}
	d.lockAndLogContainerEvent(c, events.ActionKill, map[string]string{"signal": strconv.Itoa(int(sig))})
	// the grace period bounds the wait here rather than in the supervisor,
	// so that the SIGKILL that ends it is logged (before its die) as docker's
	wait, cancel := ctx, context.CancelFunc(func() {})
	if grace >= 0 {
		wait, cancel = context.WithTimeout(ctx, grace)
	}
	err := d.tasks.Stop(wait, c.ID, sig, -1)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		d.lockAndLogContainerEvent(c, events.ActionKill, map[string]string{"signal": strconv.Itoa(int(syscall.SIGKILL))})
		err = d.tasks.KillAndWait(ctx, c.ID)
	}
	if err != nil {
		return err
	}
	// dockerd's stop returns once the exit's clean-up has released the
	// container's endpoints and volumes (its exit handler holds the
	// container through it): docker-compose 1.29 re-creates a container by
	// stopping the old one and starting the new one at once, on the same
	// fixed address ("Address already in use" otherwise).
	d.tasks.ShimGone(c.ID)
	d.lockAndLogContainerEvent(c, events.ActionStop, nil)
	return nil
}

// ContainerKill sends a signal (SIGKILL by default) to the container's process.
func (d *Daemon) ContainerKill(ctx context.Context, name string, signal string) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	sig, err := parseSignal(signal, syscall.SIGKILL)
	if err != nil {
		return err
	}
	if d.task(c.ID) != nil {
		// logged before the signal goes, so that it precedes the die it causes
		d.lockAndLogContainerEvent(c, events.ActionKill, map[string]string{"signal": strconv.Itoa(int(sig))})
	}
	if err := d.tasks.Kill(ctx, c, sig); err != nil {
		return fmt.Errorf("cannot kill container: %s: %w", name, err)
	}
	return nil
}

// parseSignal accepts docker's forms: "SIGTERM", "TERM", "term", "15".
func parseSignal(s string, def syscall.Signal) (syscall.Signal, error) {
	if s == "" {
		return def, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid signal: %s", s))
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid signal: %s", s))
}

// startErrorExitCode is docker's exit code for a container that failed to
// start: the exec failure's (127, 126), else 128.
func startErrorExitCode(err error) int {
	if ee, ok := errors.AsType[*runtime.ExecError](err); ok {
		return ee.Failure.ExitCode()
	}
	return 128
}
