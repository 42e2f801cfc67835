// Package taskstest is an in-process fake of berth-shim: a tasks.Launcher
// whose shims run no process, record what they were asked and exit when a
// test (or a signal) says so. It lets the supervision logic above the shim be
// tested without root.
package taskstest

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/tasks"
)

// Launcher is a fake tasks.Launcher. Its exported fields shape the shims it
// starts from then on; set them before use.
type Launcher struct {
	// StartErr makes Start fail with it.
	StartErr error
	// StartDelay is how long Start takes (a runtime's create and start).
	StartDelay time.Duration
	// Ignore lists the signals the fake processes survive (SIGKILL never is).
	Ignore []syscall.Signal
	// Output is what an attach to a fake process receives on stdout.
	Output string
	// ExecErr makes Exec fail before the process runs (as a command the
	// runtime cannot execute does).
	ExecErr error
	// ExecFunc plays the processes exec'd in the fake shims once they run;
	// nil runs none and exits 0.
	ExecFunc func(ctx context.Context, o shim.ExecOpts) (int, error)

	mu      sync.Mutex
	starts  []shim.Config
	live    map[string]*Shim // by state dir
	exits   map[string]shim.ExitStatus
	nextPid int
}

// NewLauncher returns a fake launcher with no shim.
func NewLauncher() *Launcher {
	return &Launcher{live: map[string]*Shim{}, exits: map[string]shim.ExitStatus{}, nextPid: 1000}
}

var _ tasks.Launcher = (*Launcher)(nil)

// Start records cfg and "runs" its process.
func (l *Launcher) Start(ctx context.Context, cfg shim.Config) (tasks.Shim, error) {
	l.mu.Lock()
	delay := l.StartDelay
	l.mu.Unlock()
	time.Sleep(delay)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.starts = append(l.starts, cfg)
	if l.StartErr != nil {
		return nil, l.StartErr
	}
	l.nextPid++
	s := l.newShim(cfg.StateDir, l.nextPid)
	return s, nil
}

func (l *Launcher) newShim(stateDir string, pid int) *Shim {
	s := &Shim{l: l, stateDir: stateDir, pid: pid, exited: make(chan struct{}), output: l.Output, ignore: map[syscall.Signal]bool{}}
	for _, sig := range l.Ignore {
		s.ignore[sig] = true
	}
	l.live[stateDir] = s
	return s
}

// Connect finds the live shim of stateDir.
func (l *Launcher) Connect(ctx context.Context, stateDir string) (tasks.Shim, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.live[stateDir]; ok && !s.gone {
		return s, nil
	}
	return nil, errdefs.ErrNotFound.WithMessage("no shim is running")
}

// ExitStatus returns the status a shim of stateDir recorded.
func (l *Launcher) ExitStatus(stateDir string) (shim.ExitStatus, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.exits[stateDir]
	return st, ok, nil
}

// Starts returns the configurations of every Start so far.
func (l *Launcher) Starts() []shim.Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]shim.Config(nil), l.starts...)
}

// Shim returns the latest shim started for stateDir, nil if none.
func (l *Launcher) Shim(stateDir string) *Shim {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[stateDir]
}

// Vanish makes the shim of stateDir disappear without a trace, as if it was
// killed with its container while no daemon watched; with st it leaves st as
// its recorded exit status.
func (l *Launcher) Vanish(stateDir string, st *shim.ExitStatus) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.live[stateDir]; ok {
		s.gone = true
	}
	delete(l.exits, stateDir)
	if st != nil {
		l.exits[stateDir] = *st
	}
}

// Shim is a fake shim and the process it supervises.
type Shim struct {
	l        *Launcher
	stateDir string
	pid      int
	output   string
	ignore   map[syscall.Signal]bool

	mu       sync.Mutex
	exited   chan struct{}
	status   shim.ExitStatus
	gone     bool // guarded by l.mu
	signals  []syscall.Signal
	sizes    [][2]uint16
	released bool
	shutdown bool
	attached int
	paused   bool
	updates  [][]byte
}

var _ tasks.Shim = (*Shim)(nil)

// Pid is the fake process's pid.
func (s *Shim) Pid() int { return s.pid }

// Release records that the held output was released.
func (s *Shim) Release(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released = true
	return nil
}

// Resize records the size.
func (s *Shim) Resize(ctx context.Context, width, height uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sizes = append(s.sizes, [2]uint16{width, height})
	return nil
}

// Kill records sig; the process ends with 128+sig unless it ignores sig.
func (s *Shim) Kill(ctx context.Context, sig syscall.Signal) error {
	s.mu.Lock()
	select {
	case <-s.exited:
		s.mu.Unlock()
		return errdefs.ErrNotFound.WithMessage("process already finished")
	default:
	}
	s.signals = append(s.signals, sig)
	ignored := s.ignore[sig] && sig != syscall.SIGKILL
	s.paused = false // berth-shim thaws a container it signalled
	s.mu.Unlock()
	if !ignored {
		s.Exit(128 + int(sig))
	}
	return nil
}

// Exit ends the fake process with code (once) and records the status, as
// berth-shim records exit.json.
func (s *Shim) Exit(code int) {
	s.mu.Lock()
	select {
	case <-s.exited:
		s.mu.Unlock()
		return
	default:
	}
	s.status = shim.ExitStatus{Code: code, ExitedAt: time.Now().UTC()}
	close(s.exited)
	st := s.status
	s.mu.Unlock()
	s.l.mu.Lock()
	s.l.exits[s.stateDir] = st
	s.l.mu.Unlock()
}

// Wait waits for the exit.
func (s *Shim) Wait(ctx context.Context) (shim.ExitStatus, error) {
	select {
	case <-s.exited:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.status, nil
	case <-ctx.Done():
		return shim.ExitStatus{}, ctx.Err()
	}
}

// Attach writes the launcher's Output to stdout, then streams until the
// process exits or ctx ends.
func (s *Shim) Attach(ctx context.Context, o shim.AttachOpts) error {
	s.mu.Lock()
	s.attached++
	s.mu.Unlock()
	if o.Attached != nil {
		o.Attached()
	}
	if o.Stdout != nil && s.output != "" {
		if _, err := fmt.Fprint(o.Stdout, s.output); err != nil {
			return err
		}
	}
	select {
	case <-s.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Exec plays an exec'd process with the launcher's ExecFunc, as pid 1 of
// the fake's numbering plus one; a fake whose process exited refuses it.
func (s *Shim) Exec(ctx context.Context, o shim.ExecOpts) (int, error) {
	if s.Exited() {
		return 0, errdefs.ErrConflict.WithMessage("container is not running")
	}
	s.l.mu.Lock()
	f, startErr := s.l.ExecFunc, s.l.ExecErr
	s.l.mu.Unlock()
	if startErr != nil {
		return 0, startErr
	}
	if o.Started != nil {
		o.Started(s.pid+1, func(width, height uint16) error { return nil })
	}
	if f == nil {
		return 0, nil
	}
	return f(ctx, o)
}

// Shutdown records that the daemon acknowledged the exit; the shim goes.
func (s *Shim) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	s.l.mu.Lock()
	s.gone = true
	s.l.mu.Unlock()
	return nil
}

// Close does nothing: the fake shim lives on.
func (s *Shim) Close() error { return nil }

// Signals returns the signals sent so far.
func (s *Shim) Signals() []syscall.Signal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]syscall.Signal(nil), s.signals...)
}

// Sizes returns the terminal sizes set so far.
func (s *Shim) Sizes() [][2]uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][2]uint16(nil), s.sizes...)
}

// Released reports whether the held output was released.
func (s *Shim) Released() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.released
}

// ShutDown reports whether the daemon told the shim to go.
func (s *Shim) ShutDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// Attaches counts the attaches so far.
func (s *Shim) Attaches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attached
}

// Exited reports whether the process ended.
func (s *Shim) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// Pause freezes the fake process; a paused one refuses a second pause.
func (s *Shim) Pause(ctx context.Context) error {
	return s.freeze(true)
}

// Resume thaws the fake process.
func (s *Shim) Resume(ctx context.Context) error {
	return s.freeze(false)
}

func (s *Shim) freeze(pause bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.notRunning(); err != nil {
		return err
	}
	if s.paused == pause {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container paused: %v", s.paused))
	}
	s.paused = pause
	return nil
}

// Paused reports whether the fake process is frozen.
func (s *Shim) Paused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// Update records the resources.
func (s *Shim) Update(ctx context.Context, resources []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.notRunning(); err != nil {
		return err
	}
	s.updates = append(s.updates, append([]byte(nil), resources...))
	return nil
}

// Updates returns the resources of every Update, in order.
func (s *Shim) Updates() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.updates...)
}

// notRunning is the conflict of an operation on an exited fake process.
func (s *Shim) notRunning() error {
	select {
	case <-s.exited:
		return errdefs.ErrConflict.WithMessage("container is not running")
	default:
		return nil
	}
}
