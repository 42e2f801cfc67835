package shim

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/runtime"
)

// Container states as the shim sees them.
const (
	stateCreated = "created"
	stateRunning = "running"
	stateStopped = "stopped"
)

// opTimeout bounds one runtime command run for a client.
const opTimeout = time.Minute

// server is the shim's state: the container's stdio, attach clients and exit.
type server struct {
	cfg Config
	rt  *runtime.Runtime
	log *log.Logger
	pid int
	// pidfd is pid's, when pid is pid 1 of a namespace of its own: signals
	// go through it rather than through the runtime (-1 otherwise)
	pidfd int

	stdio      *stdio
	outputDone chan struct{} // closed when the output copiers are done
	cgroup     oomCounter

	mu      sync.Mutex
	state   string
	paused  bool // frozen by a pause op (the runtime's state says it too)
	execSeq int  // names the files of each exec
	subs    map[*subscriber]struct{}
	ended   bool // output over: new attaches end at once
	// holding keeps the output in held for the attaches that connect
	// before the release (Config.HoldOutput)
	holding bool
	held    []outFrame
	heldLen int
	exit    *ExitStatus // set once the exit is recorded

	exited   chan struct{} // closed once exit is set (and exit.json written)
	deleted  chan struct{} // closed once the runtime deleted the container
	quit     chan struct{} // closed on Shutdown
	quitOnce sync.Once
	strays   chan struct{} // kicks reapStrays (see ranRuntime)
	idle     *idleTrimmer  // nil but in a running shim (see run)
}

func newServer(cfg Config, logger *log.Logger) *server {
	if cfg.ExitGrace <= 0 {
		cfg.ExitGrace = defaultExitGrace
	}
	return &server{
		cfg:        cfg,
		rt:         &runtime.Runtime{Path: cfg.Runtime, Root: cfg.RuntimeRoot},
		log:        logger,
		pidfd:      -1,
		state:      stateCreated,
		holding:    cfg.HoldOutput,
		subs:       map[*subscriber]struct{}{},
		outputDone: make(chan struct{}),
		exited:     make(chan struct{}),
		deleted:    make(chan struct{}),
		quit:       make(chan struct{}),
		strays:     make(chan struct{}, 1),
	}
}

// serve accepts clients until the listener closes.
func (s *server) serve(l *net.UnixListener) {
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			return
		}
		go s.handle(conn)
	}
}

func (s *server) handle(conn *net.UnixConn) {
	defer s.idle.settle()
	br := bufio.NewReader(conn)
	var req request
	if err := readJSON(br, &req); err != nil {
		conn.Close()
		return
	}
	switch req.Op {
	case opAttach:
		s.attach(conn, br, req) // owns conn from here
		return
	case opExec:
		s.exec(conn, br, req) // owns conn from here
		return
	}
	defer conn.Close()
	var resp response
	var err error
	switch req.Op {
	case opInfo:
		resp = s.info()
	case opStart:
		err = s.start()
	case opRelease:
		s.release()
	case opResize:
		err = s.stdio.resize(req.Width, req.Height)
	case opKill:
		err = s.kill(syscall.Signal(req.Signal))
	case opWait:
		resp, err = s.wait(br)
		if err == errClientGone {
			return
		}
	case opShutdown:
		err = s.shutdown()
	case opPause:
		err = s.pause()
	case opResume:
		err = s.resume()
	case opUpdate:
		err = s.update(req.Resources)
	default:
		err = errdefs.ErrNotImplemented.WithMessage("unknown shim operation " + req.Op)
	}
	if err != nil {
		resp = errorResponse(err)
	}
	_ = writeJSON(conn, resp)
	if req.Op == opShutdown && err == nil {
		s.quitOnce.Do(func() { close(s.quit) })
	}
}

func (s *server) info() response {
	s.mu.Lock()
	defer s.mu.Unlock()
	return response{Pid: s.pid, Status: s.state, Tty: s.cfg.Tty, OpenStdin: s.cfg.OpenStdin, StdinOnce: s.cfg.StdinOnce, Exit: s.exit}
}

// start runs the container's process; only a created container starts.
func (s *server) start() error {
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	if state != stateCreated {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("cannot start a container that is %s", state))
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	defer s.ranRuntime()
	if err := s.rt.Start(ctx, s.cfg.ID); err != nil {
		return err
	}
	s.mu.Lock()
	if s.state == stateCreated {
		s.state = stateRunning
	}
	s.mu.Unlock()
	return nil
}

func (s *server) kill(sig syscall.Signal) error {
	if s.hasExited() {
		return errdefs.ErrNotFound.WithMessage("container is not running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.signal(ctx, sig); err != nil {
		return err
	}
	return s.thawAfterKill(ctx)
}

func (s *server) hasExited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

var errClientGone = fmt.Errorf("client went away")

// wait answers once the container exited, or gives up when the client hangs up.
func (s *server) wait(br *bufio.Reader) (response, error) {
	gone := make(chan struct{})
	go func() {
		// a small buffer: this read lasts as long as the container (io.Copy
		// would hold 8K meanwhile)
		var b [64]byte
		for {
			if _, err := br.Read(b[:]); err != nil {
				break
			}
		}
		close(gone)
	}()
	select {
	case <-s.exited:
		return s.info(), nil
	case <-gone:
		return response{}, errClientGone
	}
}

// shutdown acknowledges the exit; a container still there is killed first.
func (s *server) shutdown() error {
	if !s.hasExited() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		err := s.rt.Delete(ctx, s.cfg.ID, true)
		cancel()
		if err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
	}
	select {
	case <-s.deleted:
		return nil
	case <-time.After(opTimeout):
		return errdefs.ErrUnavailable.WithMessage("shutdown: the container did not exit")
	}
}
