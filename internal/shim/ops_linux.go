package shim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"
)

// pause freezes the container's processes.
func (s *server) pause() error {
	if s.hasExited() {
		return errdefs.ErrConflict.WithMessage("container is not running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	defer s.ranRuntime()
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
	defer s.ranRuntime()
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
	defer s.ranRuntime()
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
	defer s.ranRuntime()
	return s.rt.Update(ctx, s.cfg.ID, resources)
}

// signal sends sig to the container's pid 1: through its pidfd when it has
// one (see openInitPidfd), which spares a runtime invocation (a process
// start, tens of milliseconds on a busy host, on every stop) and cannot
// reach another process once pid 1 is reaped; through the runtime
// otherwise.
func (s *server) signal(ctx context.Context, sig syscall.Signal) error {
	if s.pidfd < 0 {
		defer s.ranRuntime()
		return s.rt.Kill(ctx, s.cfg.ID, sig, false)
	}
	err := unix.PidfdSendSignal(s.pidfd, sig, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return errdefs.ErrNotFound.WithMessage("container is not running")
	}
	return os.NewSyscallError("pidfd_send_signal", err)
}

// openInitPidfd opens a pidfd on pid when pid is pid 1 of a pid namespace
// of its own, the case where a signal to it is all the runtime's kill does
// (without one, runc's SIGKILL reaches every process of the container); it
// returns -1 otherwise, or on kernels without pidfds (before 5.3).
func openInitPidfd(pid int) int {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	own := false
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			f := strings.Fields(rest)
			own = len(f) > 1 && f[len(f)-1] == "1"
		}
	}
	if !own {
		return -1
	}
	fd, err := unix.PidfdOpen(pid, 0) // close-on-exec
	if err != nil {
		return -1
	}
	return fd
}
