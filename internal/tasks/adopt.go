package tasks

import (
	"context"
	"syscall"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/container"
)

// Adopt takes over a container recorded as running (or paused, or
// restarting) by a previous daemon: its shim is monitored again when it
// still answers at stateDir; otherwise the exit it recorded there is applied
// (or 255, docker's code for a container whose exit is unknown), restart
// policy included. A shim gone without an exit status died under its
// container, which is then killed (137, with a State.Error saying so).
func (s *Supervisor) Adopt(ctx context.Context, c *container.Container, stateDir string) {
	if sh, err := s.launcher.Connect(ctx, stateDir); err == nil {
		t := s.track(c.ID, stateDir, sh)
		s.goTrack(func() { s.monitor(c, t) })
		s.resumeHealth(c, t)
		return
	}
	st, ok, err := s.launcher.ExitStatus(stateDir)
	if err != nil {
		s.log.Warn("read exit status", "id", c.ID, "err", err)
	}
	reason := ""
	if !ok {
		st, reason = s.orphaned(c.ID)
	}
	s.exitedWith(c, nil, st, reason)
}

// Discard tidies up after a container recorded as not running, which a
// start cut short by a crash may have left half-started: networking and the
// bundle prepared, or even its shim and process running (the record would
// have said "running" next). The client never heard that the start
// succeeded, so the process is killed and the shim told to go; then what
// Prepare set up is released. The container stays as recorded, and its next
// start begins afresh.
func (s *Supervisor) Discard(ctx context.Context, id, stateDir string) {
	if sh, err := s.launcher.Connect(ctx, stateDir); err == nil {
		s.log.Warn("killing the process of a start a crash cut short", "id", id)
		if err := sh.Kill(ctx, syscall.SIGKILL); err != nil && !errdefs.IsNotFound(err) {
			s.log.Warn("kill", "id", id, "err", err)
		}
		wctx, cancel := context.WithTimeout(ctx, killWait)
		if _, err := sh.Wait(wctx); err != nil {
			s.log.Warn("wait for the killed process", "id", id, "err", err)
		}
		cancel()
		if err := sh.Shutdown(ctx); err != nil {
			s.log.Debug("shim shutdown", "id", id, "err", err)
		}
		_ = sh.Close()
	}
	s.host.Release(ctx, id)
}
