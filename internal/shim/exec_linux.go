package shim

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/runtime"
)

// execProcess is one exec'd process's stdio, held by the shim.
type execProcess struct {
	pid    int
	mu     sync.Mutex
	exited bool     // reaped: pid may name another process now
	stdin  *os.File // write end, or the pty master; nil without stdin
	stdout *os.File // read end, or the pty master
	stderr *os.File // read end; nil with a TTY
	tty    bool
}

// exec runs req.Process in the container and serves its stdio on conn:
// output frames to the client, input frames from it, then the exit frame.
// The process's stdio lives with the connection: a client that goes away
// leaves the process running with its output discarded.
func (s *server) exec(conn net.Conn, br *bufio.Reader, req request) {
	defer conn.Close()
	if s.hasExited() {
		_ = writeJSON(conn, errorResponse(errdefs.ErrConflict.WithMessage("container is not running")))
		return
	}
	p, err := s.startExec(req)
	if err != nil {
		if ee, ok := errors.AsType[*runtime.ExecError](err); ok {
			err = ee // the runtime's own words, without our wrapping
		}
		_ = writeJSON(conn, errorResponse(err))
		return
	}
	if err := writeJSON(conn, response{Pid: p.pid}); err != nil {
		// the client is gone: the process runs on, unattended
		p.stdout.Close()
		if p.stderr != nil {
			p.stderr.Close()
		}
	}

	var wmu sync.Mutex
	send := func(kind byte, b []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = writeFrame(conn, kind, b) // a client gone only loses the output
	}
	go p.readInput(br)

	var wg sync.WaitGroup
	copyOut := func(f *os.File, kind byte) {
		defer wg.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				send(kind, buf[:n])
			}
			if err != nil { // EOF; EIO on a pty master whose slave closed
				return
			}
		}
	}
	wg.Add(1)
	go copyOut(p.stdout, frameStdout)
	if p.stderr != nil {
		wg.Add(1)
		go copyOut(p.stderr, frameStderr)
	}
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()

	ws, err := waitPid(p.pid)
	p.mu.Lock()
	p.exited = true
	p.mu.Unlock()
	code := exitCode(ws)
	if err != nil {
		s.log.Printf("wait for exec pid %d: %v", p.pid, err)
		code = 255
	}
	select {
	case <-drained:
	case <-time.After(outputDrainTimeout):
		// a child of the process still holds the output open
	}
	p.stdout.Close()
	if p.stderr != nil {
		p.stderr.Close()
	}
	if p.stdin != nil && p.stdin != p.stdout {
		p.stdin.Close()
	}
	<-drained
	send(frameExit, []byte(strconv.Itoa(code)))
}

// startExec writes the process file, gives the process its stdio and runs
// the runtime's exec.
func (s *server) startExec(req request) (*execProcess, error) {
	if len(req.Process) == 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("exec: no process")
	}
	s.mu.Lock()
	s.execSeq++
	n := s.execSeq
	s.mu.Unlock()
	base := filepath.Join(s.cfg.StateDir, "exec-"+strconv.Itoa(n))
	opts := runtime.ExecOpts{ProcessFile: base + ".json", PidFile: base + ".pid"}
	if err := os.WriteFile(opts.ProcessFile, req.Process, 0o600); err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	defer os.Remove(opts.ProcessFile)
	defer os.Remove(opts.PidFile)

	p := &execProcess{tty: req.Tty}
	var theirs []*os.File
	var consoleCh chan consoleResult
	if req.Tty {
		path, l, cleanup, err := listenConsole(s.cfg.StateDir, "exec-"+strconv.Itoa(n)+".sock")
		if err != nil {
			return nil, err
		}
		defer cleanup()
		opts.ConsoleSocket = path
		consoleCh = make(chan consoleResult, 1)
		go func() { consoleCh <- receiveConsole(l) }()
	} else {
		var err error
		if p.stdout, opts.Stdout, err = os.Pipe(); err != nil {
			return nil, err
		}
		if p.stderr, opts.Stderr, err = os.Pipe(); err != nil {
			p.stdout.Close()
			opts.Stdout.Close()
			return nil, err
		}
		theirs = append(theirs, opts.Stdout, opts.Stderr)
		if req.Stdin {
			if opts.Stdin, p.stdin, err = os.Pipe(); err != nil {
				p.closeAll()
				closeFiles(theirs)
				return nil, err
			}
			theirs = append(theirs, opts.Stdin)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err := s.rt.Exec(ctx, s.cfg.ID, opts)
	s.ranRuntime()
	closeFiles(theirs)
	if err != nil {
		p.closeAll()
		return nil, err
	}
	if req.Tty {
		var res consoleResult
		select {
		case res = <-consoleCh:
		case <-time.After(10 * time.Second):
			res.err = errors.New("runtime sent no console")
		}
		if res.err != nil {
			return nil, fmt.Errorf("exec: receive console: %w", res.err)
		}
		p.stdout = res.f
		if req.Stdin {
			p.stdin = res.f
		}
	}
	pid, err := readPid(opts.PidFile)
	if err != nil {
		p.closeAll()
		return nil, err
	}
	p.pid = pid
	return p, nil
}

// readInput forwards the client's input and terminal sizes until it goes.
func (p *execProcess) readInput(br *bufio.Reader) {
	for {
		kind, b, err := readFrame(br)
		if err != nil {
			return
		}
		switch kind {
		case frameStdin:
			if p.stdin != nil {
				_, _ = p.stdin.Write(b) // EPIPE: the process stopped reading
			}
		case frameStdinClose:
			// a pty's master also carries the output: only pipes are closed
			if p.stdin != nil && !p.tty {
				p.stdin.Close()
			}
		case frameKill:
			p.kill()
		case frameResize:
			if p.tty && len(b) == 4 {
				io := &stdio{console: p.stdout}
				_ = io.resize(binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint16(b[2:4]))
			}
		}
	}
}

// kill SIGKILLs the process unless it was already reaped.
func (p *execProcess) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.exited {
		_ = unix.Kill(p.pid, unix.SIGKILL)
	}
}

func (p *execProcess) closeAll() {
	closeFiles([]*os.File{p.stdin, p.stdout, p.stderr})
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}
