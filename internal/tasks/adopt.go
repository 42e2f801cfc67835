package tasks

import (
	"context"

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
