package daemon

import (
	"context"
	"errors"
	"fmt"
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
func (d *Daemon) ContainerStop(ctx context.Context, name string, signal string, timeout *int) (bool, error) {
	c, err := d.lookup(name)
	if err != nil {
		return false, err
	}
	if !d.markStopped(c) {
		return true, nil
	}
	t := d.task(c.ID)
	if t == nil {
		return false, nil
	}
	return false, d.stop(ctx, c, t, signal, timeout)
}

// markStopped records that the user stopped c, so its restart policy leaves
// it alone, and cancels a pending restart. It reports whether c was running
// or restarting.
func (d *Daemon) markStopped(c *container.Container) bool {
	c.Lock()
	defer c.Unlock()
	switch c.State.Status {
	case containertypes.StateRestarting:
		c.ManuallyStopped = true
		_ = c.State.SetExited(c.State.ExitCode, c.State.FinishedAt, false)
	case containertypes.StateRunning, containertypes.StatePaused:
		c.ManuallyStopped = true
	default:
		return false
	}
	if err := c.Save(d.containerDataDir(c.ID)); err != nil {
		d.log.Error("save container state", "id", c.ID, "err", err)
	}
	d.notify(c.ID)
	return true
}

func (d *Daemon) stop(ctx context.Context, c *container.Container, t *task, signal string, timeout *int) error {
	if signal == "" {
		signal = c.Config.StopSignal
	}
	sig, err := parseSignal(signal, syscall.SIGTERM)
	if err != nil {
		return err
	}
	secs := defaultStopTimeout
	if c.Config.StopTimeout != nil {
		secs = *c.Config.StopTimeout
	}
	if timeout != nil {
		secs = *timeout
	}
	if err := t.shim.Kill(ctx, sig); err != nil && !errdefs.IsNotFound(err) {
		d.log.Debug("stop signal", "id", c.ID, "err", err)
	}
	var grace <-chan time.Time
	if secs >= 0 {
		timer := time.NewTimer(time.Duration(secs) * time.Second)
		defer timer.Stop()
		grace = timer.C
	}
	select {
	case <-t.done:
		return nil
	case <-grace:
	case <-ctx.Done():
		return ctx.Err()
	}
	return d.killAndWait(ctx, t)
}

// killAndWait sends SIGKILL and waits for the exit to be recorded.
func (d *Daemon) killAndWait(ctx context.Context, t *task) error {
	if err := t.shim.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("kill container: %w", err)
	}
	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ContainerRestart stops the container if it runs, then starts it.
func (d *Daemon) ContainerRestart(ctx context.Context, name string, signal string, timeout *int) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	if t := d.task(c.ID); t != nil {
		if err := d.stop(ctx, c, t, signal, timeout); err != nil {
			return fmt.Errorf("cannot restart container %s: %w", name, err)
		}
	}
	c.Lock()
	defer c.Unlock()
	if c.State.Status == containertypes.StateRunning {
		return nil
	}
	return d.start(ctx, c)
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
	t := d.task(c.ID)
	if t == nil {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("cannot kill container: %s: container %s is not running", name, c.ID))
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM || sig == syscall.SIGINT {
		d.markStopped(c)
	}
	if err := t.shim.Kill(ctx, sig); err != nil {
		return fmt.Errorf("cannot kill container: %s: %w", name, err)
	}
	if sig == syscall.SIGKILL {
		// docker returns once a SIGKILLed container is recorded as exited
		select {
		case <-t.done:
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
		}
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
