package tasks

import (
	"context"
	"time"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/shim"
)

// Adopt takes over a container recorded as running (or paused, or
// restarting) by a previous daemon: its shim is monitored again when it
// still answers at stateDir; otherwise the exit it recorded there is applied
// (or 255, docker's code for a container whose exit is unknown), restart
// policy included.
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
	if !ok {
		st = shim.ExitStatus{Code: 255, ExitedAt: time.Now().UTC()}
	}
	s.exited(c, nil, st)
}
