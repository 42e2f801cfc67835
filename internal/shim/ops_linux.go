package shim

import (
	"context"

	"github.com/containerd/errdefs"
)

// pause freezes the container's processes.
func (s *server) pause() error {
	if s.hasExited() {
		return errdefs.ErrConflict.WithMessage("container is not running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.rt.Pause(ctx, s.cfg.ID); err != nil {
		return err
	}
	s.mu.Lock()
	s.paused = true
	s.mu.Unlock()
	return nil
}

// resume thaws the container's processes.
func (s *server) resume() error {
	if s.hasExited() {
		return errdefs.ErrConflict.WithMessage("container is not running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.rt.Resume(ctx, s.cfg.ID); err != nil {
		return err
	}
	s.mu.Lock()
	s.paused = false
	s.mu.Unlock()
	return nil
}

// thawAfterKill resumes a paused container once a signal was sent to it: a
// frozen process acts on no signal, not even SIGKILL, until thawed. Docker
// does the same (the signal is delivered when the container resumes).
func (s *server) thawAfterKill(ctx context.Context) error {
	s.mu.Lock()
	paused := s.paused
	s.mu.Unlock()
	if !paused {
		return nil
	}
	// runc thaws a container itself after a SIGKILL ("container not
	// paused", a conflict), and one that died is gone: both are thawed
	if err := s.rt.Resume(ctx, s.cfg.ID); err != nil && !errdefs.IsNotFound(err) && !errdefs.IsConflict(err) {
		return err
	}
	s.mu.Lock()
	s.paused = false
	s.mu.Unlock()
	return nil
}

// update applies new resource limits to the running container.
func (s *server) update(resources []byte) error {
	if s.hasExited() {
		return errdefs.ErrConflict.WithMessage("container is not running")
	}
	if len(resources) == 0 {
		return errdefs.ErrInvalidArgument.WithMessage("update: no resources")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return s.rt.Update(ctx, s.cfg.ID, resources)
}
