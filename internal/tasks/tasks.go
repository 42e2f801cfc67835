// Package tasks supervises live containers: it holds the shim of every
// running container, monitors their exits, applies restart policies with
// their back-off, starts containers on boot, re-adopts the shims that
// survived a previous berthd, and hands the shim of a starting container to
// the attaches waiting for it. The restart policy's meaning lives here, once.
//
// The shim is reached through Launcher and Shim, so the supervision logic is
// tested with an in-process fake (package taskstest) instead of berth-shim.
// What a start needs besides the shim (rootfs, networking, the OCI bundle)
// and what an exit releases belong to the caller, through Host.
package tasks

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/shim"
	"github.com/berth-project/berth/internal/trace"
)

// Shim is one container's live supervisor process, as the daemon uses it.
// *shim.Client implements it.
type Shim interface {
	// Pid is the container's pid 1.
	Pid() int
	// Release ends HoldOutput (see shim.Config).
	Release(ctx context.Context) error
	Resize(ctx context.Context, width, height uint16) error
	// Kill signals pid 1; errdefs.ErrNotFound once it no longer runs.
	Kill(ctx context.Context, sig syscall.Signal) error
	// Wait returns the exit status once the container exited.
	Wait(ctx context.Context) (shim.ExitStatus, error)
	Attach(ctx context.Context, opts shim.AttachOpts) error
	// Exec runs a process in the container and streams its stdio until it
	// exits, returning its exit code.
	Exec(ctx context.Context, opts shim.ExecOpts) (int, error)
	// Pause freezes the container's processes; Resume thaws them. A
	// signal sent to a paused container thaws it (the shim does).
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	// Update applies resources (runtime-spec LinuxResources, JSON) to the
	// running container.
	Update(ctx context.Context, resources []byte) error
	// Shutdown tells the shim the exit is recorded: it deletes the
	// container from the runtime and goes.
	Shutdown(ctx context.Context) error
	// Close releases the handle; the shim and its container go on.
	Close() error
}

// Launcher starts shims and finds the ones already running.
type Launcher interface {
	// Start launches a shim for cfg and returns once the container's
	// process runs (cfg.StartNow) or is created.
	Start(ctx context.Context, cfg shim.Config) (Shim, error)
	// Connect re-adopts the shim serving stateDir; errdefs.ErrNotFound when
	// none answers.
	Connect(ctx context.Context, stateDir string) (Shim, error)
	// ExitStatus is the status a shim recorded in stateDir before it went;
	// false when there is none.
	ExitStatus(stateDir string) (shim.ExitStatus, bool, error)
}

// Host is what the supervisor needs from the daemon around a shim's life.
// Methods taking a container are called with it locked.
type Host interface {
	// Prepare readies c to run (rootfs, networking, OCI bundle) and returns
	// the shim's configuration.
	Prepare(ctx context.Context, c *container.Container) (shim.Config, error)
	// StartFailed records a start that failed with err; Release has run.
	StartFailed(c *container.Container, err error)
	// Release undoes Prepare once the shim of id is gone. Best effort and
	// idempotent.
	Release(ctx context.Context, id string)
	// Save persists c's record.
	Save(c *container.Container)
	// Changed wakes whoever waits on c's state, which just changed.
	Changed(c *container.Container)
	// Exists reports whether id is still a container (not removed).
	Exists(id string) bool
	// AutoRemove removes id after its exit (--rm).
	AutoRemove(ctx context.Context, id string)
	// KillOrphan kills the processes of id, whose shim died, and deletes
	// it from the OCI runtime; known is false (and err nil) when the
	// runtime does not know id.
	KillOrphan(ctx context.Context, id string) (known bool, err error)
	// ProbeExec is what a health probe of c execs: cmd run as the
	// container's process would be (user, working directory, environment),
	// as a runtime-spec process (JSON), and the exec's description for
	// inspect (an Exec's Meta). c is unlocked.
	ProbeExec(c *container.Container, cmd []string) (process []byte, meta any, err error)
	// Event records an engine event about c: docker's action ("health_status:
	// healthy", "exec_die"...) and its extra attributes. c is locked.
	Event(c *container.Container, action string, attrs map[string]string)
}

// Config are the supervisor's parts.
type Config struct {
	Launcher Launcher
	Host     Host
	Logger   *slog.Logger
}

// Supervisor owns the live containers.
type Supervisor struct {
	launcher Launcher
	host     Host
	log      *slog.Logger

	mu       sync.Mutex
	running  map[string]*Task            // container id -> live shim
	stopping map[string]chan struct{}    // exited containers whose shim is finishing
	pending  map[string][]*PendingAttach // attaches waiting for a start
	timers   map[string]*restartTimer    // scheduled restarts
	execs    map[string]*Exec            // exec sessions by id
	closed   bool
	wg       sync.WaitGroup // monitors, shim releases and restarts under way
}

// New returns a supervisor with no live container.
func New(cfg Config) *Supervisor {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Supervisor{
		launcher: cfg.Launcher,
		host:     cfg.Host,
		log:      cfg.Logger,
		running:  map[string]*Task{},
		stopping: map[string]chan struct{}{},
		pending:  map[string][]*PendingAttach{},
		timers:   map[string]*restartTimer{},
		execs:    map[string]*Exec{},
	}
}

// Task is a running container's shim.
type Task struct {
	shim     Shim
	stateDir string
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{} // closed once the exit has been recorded
	trace    *trace.Trace  // the start's, when traced: the exit's steps go there too
}

// Shim is the task's shim.
func (t *Task) Shim() Shim { return t.shim }

// Done is closed once the container's exit has been recorded.
func (t *Task) Done() <-chan struct{} { return t.done }

// Get returns id's live task, or nil when it does not run.
func (s *Supervisor) Get(id string) *Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[id]
}

// closeWait bounds how long Close waits for the work under way: a shim that
// does not answer must not hold berthd's shutdown.
const closeWait = 10 * time.Second

// Close stops monitoring, cancels the scheduled restarts and waits for the
// work under way (an exit being recorded, a shim being released). The
// containers keep running under their shims, to be re-adopted by the next
// daemon.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	s.closed = true
	var errs []error
	for _, t := range s.running {
		t.cancel()
		errs = append(errs, t.shim.Close())
	}
	for id := range s.timers {
		s.cancelRestartLocked(id)
	}
	s.mu.Unlock()
	idle := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(idle)
	}()
	select {
	case <-idle:
	case <-time.After(closeWait):
		s.log.Warn("supervisor: work still under way at close")
	}
	return errors.Join(errs...)
}

// goTrack runs f in a goroutine that Close waits for.
func (s *Supervisor) goTrack(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// track registers a live shim for id.
func (s *Supervisor) track(id, stateDir string, sh Shim) *Task {
	ctx, cancel := context.WithCancel(context.Background())
	t := &Task{shim: sh, stateDir: stateDir, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.running[id] = t
	s.mu.Unlock()
	return t
}
