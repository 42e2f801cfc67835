package shim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/logfile"
	"github.com/berth-project/berth/internal/runtime"
)

// stdio is the shim's side of the container's standard streams.
type stdio struct {
	theirs  []*os.File // the container's ends, closed once it holds them
	stdout  *os.File   // read end; the pty master with a TTY
	stderr  *os.File   // read end; nil with a TTY
	console *os.File   // pty master, nil without a TTY

	stdinMu     sync.Mutex
	stdin       *os.File // write end or pty master; nil without OpenStdin
	stdinClosed bool
}

// create runs `runtime create` with the container's stdio, then starts
// copying its output to the log.
func (s *server) create() error {
	io := &stdio{}
	opts := runtime.CreateOpts{PidFile: filepath.Join(s.cfg.StateDir, initPidName), Start: s.cfg.StartNow}
	var consoleCh chan consoleResult
	if s.cfg.Tty {
		path, l, cleanup, err := listenConsole(s.cfg.StateDir, consoleName)
		if err != nil {
			return err
		}
		defer cleanup()
		opts.ConsoleSocket = path
		consoleCh = make(chan consoleResult, 1)
		go func() { consoleCh <- receiveConsole(l) }()
	} else if err := io.pipes(s.cfg.OpenStdin, &opts); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err := s.rt.Create(ctx, s.cfg.ID, s.cfg.Bundle, opts)
	s.ranRuntime()
	for _, f := range io.theirs {
		f.Close()
	}
	if err != nil {
		io.closeOutput()
		io.closeStdin()
		return err
	}
	if s.cfg.Tty {
		var res consoleResult
		select {
		case res = <-consoleCh:
		case <-time.After(10 * time.Second):
			res.err = errors.New("runtime sent no console")
		}
		if res.err != nil {
			_ = s.rt.Delete(context.Background(), s.cfg.ID, true)
			return fmt.Errorf("receive console: %w", res.err)
		}
		io.console, io.stdout = res.f, res.f
		if s.cfg.OpenStdin {
			io.stdin = res.f
		}
	}
	pid, err := readPid(opts.PidFile)
	if err != nil {
		_ = s.rt.Delete(context.Background(), s.cfg.ID, true)
		io.closeOutput()
		io.closeStdin()
		return err
	}
	s.pid, s.stdio = pid, io
	s.pidfd = openInitPidfd(pid) // pid is not reaped before reap() starts
	s.cgroup = openOOMCounter(pid)
	return s.copyOutput()
}

// pipes gives the container real pipes, so stdout and stderr stay apart.
func (io *stdio) pipes(openStdin bool, opts *runtime.CreateOpts) error {
	var err error
	if io.stdout, opts.Stdout, err = os.Pipe(); err != nil {
		return err
	}
	if io.stderr, opts.Stderr, err = os.Pipe(); err != nil {
		return err
	}
	io.theirs = append(io.theirs, opts.Stdout, opts.Stderr)
	if openStdin {
		if opts.Stdin, io.stdin, err = os.Pipe(); err != nil {
			return err
		}
		io.theirs = append(io.theirs, opts.Stdin)
	}
	return nil
}

// copyOutput copies each output stream to the log and the attached clients
// until it ends; outputDone is closed when all are done and the log is closed.
func (s *server) copyOutput() error {
	w, err := s.openLog()
	if err != nil {
		return err
	}
	streams := []struct {
		f      *os.File
		stream string
		kind   byte
	}{{s.stdio.stdout, "stdout", frameStdout}}
	if s.stdio.stderr != nil {
		streams = append(streams, struct {
			f      *os.File
			stream string
			kind   byte
		}{s.stdio.stderr, "stderr", frameStderr})
	}
	var running atomic.Int32
	running.Store(int32(len(streams)))
	// the last copier to end closes the log (no goroutine waits for them)
	done := func() {
		if running.Add(-1) > 0 {
			return
		}
		if w != nil {
			if err := w.Close(); err != nil {
				s.log.Printf("close container log: %v", err)
			}
		}
		close(s.outputDone)
	}
	copyStream := func(r *os.File, stream string, kind byte) {
		defer done()
		var lw io.Writer = io.Discard // the none driver
		if w != nil {
			lw = logfile.NewLineWriter(w, stream)
		}
		logErr := false
		for {
			more := readChunk(r, func(p []byte) {
				s.broadcast(kind, p)
				if _, werr := lw.Write(p); werr != nil && !logErr {
					s.log.Printf("write container log: %v", werr)
					logErr = true
				}
			})
			if !more { // EOF; EIO on a pty master whose last slave closed
				break
			}
		}
		if f, ok := lw.(*logfile.LineWriter); ok {
			_ = f.Flush()
		}
	}
	for _, st := range streams {
		go copyStream(st.f, st.stream, st.kind)
	}
	return nil
}

// outBufs lends the output copiers a buffer for one read at a time: a
// container that prints nothing holds none (a copier blocked in Read would
// hold its 32K for the container's life, per stream and per shim).
var outBufs = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

// readChunk waits until r has output, reads it into a lent buffer and hands
// it to use, which must not keep it; false once r ended (EOF, an error, or
// r closed).
func readChunk(r *os.File, use func([]byte)) bool {
	rc, err := r.SyscallConn()
	if err != nil {
		return false
	}
	var (
		bp   *[]byte
		n    int
		rerr error
	)
	err = rc.Read(func(fd uintptr) bool {
		bp = outBufs.Get().(*[]byte)
		for {
			n, rerr = unix.Read(int(fd), *bp)
			if rerr != unix.EINTR {
				break
			}
		}
		if rerr == unix.EAGAIN { // wait in the poller, without the buffer
			outBufs.Put(bp)
			return false
		}
		return true
	})
	if err != nil { // closed while waiting
		return false
	}
	defer outBufs.Put(bp)
	if rerr == nil && n > 0 {
		use((*bp)[:n])
		return true
	}
	return false
}

// openLog opens the container's log as its driver says; nil for none.
func (s *server) openLog() (*logfile.Writer, error) {
	l := s.cfg.Log
	o := logfile.Options{MaxSize: l.MaxSize, MaxFiles: l.MaxFiles, Compress: l.Compress}
	if l.Attrs != "" {
		o.Attrs = []byte(l.Attrs)
	}
	switch l.Driver {
	case "", "json-file":
	case "local":
		o.Format = logfile.Local
	case "none":
		return nil, nil
	default:
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("shim: unknown log driver %q", l.Driver))
	}
	return logfile.NewWriter(s.cfg.LogPath, o)
}

// writeStdin forwards client input; dropped once stdin is closed.
func (io *stdio) writeStdin(p []byte) {
	io.stdinMu.Lock()
	defer io.stdinMu.Unlock()
	if io.stdin != nil && !io.stdinClosed {
		_, _ = io.stdin.Write(p) // EPIPE: the container stopped reading
	}
}

// closeStdin gives the container EOF on its stdin (pipes only: a pty master
// also carries the output, it is closed with closeOutput).
func (io *stdio) closeStdin() {
	io.stdinMu.Lock()
	defer io.stdinMu.Unlock()
	if io.stdin != nil && !io.stdinClosed {
		io.stdinClosed = true
		if io.stdin != io.console {
			io.stdin.Close()
		}
	}
}

// closeOutput closes the read ends, ending the copiers.
func (io *stdio) closeOutput() {
	for _, f := range []*os.File{io.stdout, io.stderr} {
		if f != nil {
			f.Close()
		}
	}
}

// resize sets the pty's window size; without a TTY it does nothing, like containerd.
func (io *stdio) resize(width, height uint16) error {
	if io == nil || io.console == nil {
		return nil
	}
	rc, err := io.console.SyscallConn()
	if err != nil {
		return err
	}
	var ioctlErr error
	err = rc.Control(func(fd uintptr) {
		ioctlErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: height, Col: width})
	})
	if err != nil {
		return errdefs.ErrNotFound.WithMessage("container is not running")
	}
	if ioctlErr != nil {
		return fmt.Errorf("resize tty: %w", ioctlErr)
	}
	return nil
}

type consoleResult struct {
	f   *os.File
	err error
}

// listenConsole opens the socket on which the runtime sends the pty master,
// in the state directory or, when that path is too long, a temp directory.
// cleanup closes and removes it.
func listenConsole(stateDir, name string) (path string, l *net.UnixListener, cleanup func(), err error) {
	path = filepath.Join(stateDir, name)
	tmpDir := ""
	if len(path) > maxSocketPath {
		if tmpDir, err = os.MkdirTemp("", "berth-console-"); err != nil {
			return "", nil, nil, fmt.Errorf("console socket: %w", err)
		}
		path = filepath.Join(tmpDir, name)
	}
	_ = os.Remove(path)
	l, err = net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		if tmpDir != "" {
			_ = os.Remove(tmpDir)
		}
		return "", nil, nil, fmt.Errorf("console socket: %w", err)
	}
	l.SetUnlinkOnClose(true)
	cleanup = func() {
		l.Close()
		if tmpDir != "" {
			_ = os.Remove(tmpDir)
		}
	}
	return path, l, cleanup, nil
}

// receiveConsole accepts the runtime's connection and takes the pty master
// passed with SCM_RIGHTS.
func receiveConsole(l *net.UnixListener) consoleResult {
	_ = l.SetDeadline(time.Now().Add(opTimeout))
	conn, err := l.AcceptUnix()
	if err != nil {
		return consoleResult{err: err}
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return consoleResult{err: err}
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return consoleResult{err: err}
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err == nil {
			fds = append(fds, got...)
		}
	}
	if len(fds) == 0 {
		return consoleResult{err: errors.New("no file descriptor in the console message")}
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	unix.CloseOnExec(fds[0])
	// Non-blocking, so the master is polled and Close interrupts a Read.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return consoleResult{err: err}
	}
	return consoleResult{f: os.NewFile(uintptr(fds[0]), "pty-master")}
}

func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read container pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("bad container pid file %s: %q", path, data)
	}
	return pid, nil
}
