package shim

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/atomicfile"
)

// outputDrainTimeout bounds the wait for the output to end after the exit: a
// process outside the container's pid namespace may hold it open forever.
const outputDrainTimeout = 5 * time.Second

// reap waits for the container's pid 1, records its exit, ends the attaches
// and deletes the container from the runtime.
func (s *server) reap() {
	ws, err := waitPid(s.pid)
	at := time.Now().UTC()
	code := exitCode(ws)
	if err != nil {
		s.log.Printf("wait for pid %d: %v", s.pid, err)
		code = 255
	}
	select {
	case <-s.outputDone:
	case <-time.After(outputDrainTimeout):
		s.stdio.closeOutput()
		<-s.outputDone
	}
	st := ExitStatus{Code: code, ExitedAt: at, OOMKilled: s.cgroup.killed()}
	if data, err := json.Marshal(st); err == nil {
		if err := atomicfile.WriteFile(filepath.Join(s.cfg.StateDir, exitName), data, 0o644); err != nil {
			s.log.Printf("record exit status: %v", err)
		}
	}
	s.mu.Lock()
	s.exit, s.state = &st, stateStopped
	s.mu.Unlock()
	close(s.exited)

	s.endAttaches()
	s.stdio.closeStdin()
	s.stdio.closeOutput()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	if err := s.rt.Delete(ctx, s.cfg.ID, true); err != nil {
		s.log.Printf("runtime delete: %v", err)
	}
	cancel()
	close(s.deleted)
}

// waitPid reaps pid. A process the runtime started becomes our child (we
// are its subreaper) only once its own parent exits, which on a busy host
// may come after the runtime returned: until then Wait4 says ECHILD, and
// pid is waited for again every pollChild until it is ours (then its exit
// is reaped, never left a zombie that looks alive) or gone.
func waitPid(pid int) (unix.WaitStatus, error) {
	waitExit(pid)
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD) && unix.Kill(pid, 0) == nil:
			time.Sleep(pollChild)
			continue
		}
		return ws, err
	}
}

// waitExit returns once pid has exited (or at once when that cannot be
// watched), so that waitPid's wait4 then returns without blocking: pid's
// pidfd waits in the runtime's poller, where a wait4 would hold a thread of
// its own (its stacks and the kernel's, some 60 KB per shim) for the
// container's whole life.
func waitExit(pid int) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil { // before Linux 5.10, or pid is gone: wait4 says which
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	// readable once the process exited; an error (not pollable) ends the
	// wait here too
	_ = rc.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err != nil || n > 0
	})
}

// pollChild is how often waitPid looks again for a process that is not yet
// its child.
const pollChild = 50 * time.Millisecond

// exitCode is docker's: the exit status, or 128+signal when killed.
func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
