package shim

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/atomicfile"
)

// Main is the berth-shim program. Its configuration comes as flags (see
// Config.args); fd 3 is the pipe on which it reports the created container
// to its launcher; stdout and stderr are its own log.
func Main() {
	began := time.Now()
	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		logger.Fatalf("berth-shim: %v", err)
	}
	logger.SetPrefix("berth-shim " + cfg.ID + ": ")
	if err := run(cfg, logger, began); err != nil {
		logger.Print(err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (Config, error) {
	var cfg Config
	fs := flag.NewFlagSet("berth-shim", flag.ContinueOnError)
	fs.StringVar(&cfg.ID, "id", "", "container id")
	fs.StringVar(&cfg.Bundle, "bundle", "", "OCI bundle")
	fs.StringVar(&cfg.StateDir, "state-dir", "", "state directory")
	fs.StringVar(&cfg.Runtime, "runtime", "", "OCI runtime binary")
	fs.StringVar(&cfg.RuntimeRoot, "runtime-root", "", "OCI runtime --root")
	fs.StringVar(&cfg.LogPath, "log", "", "container log")
	fs.StringVar(&cfg.Log.Driver, "log-driver", "", "log format: json-file, local or none")
	fs.Int64Var(&cfg.Log.MaxSize, "log-max-size", 0, "rotate the log past this many bytes")
	fs.IntVar(&cfg.Log.MaxFiles, "log-max-file", 0, "log files kept")
	fs.BoolVar(&cfg.Log.Compress, "log-compress", false, "gzip rotated log files")
	fs.StringVar(&cfg.Log.Attrs, "log-attrs", "", "JSON attrs of each json-file entry")
	fs.BoolVar(&cfg.Tty, "tty", false, "give the container a pty")
	fs.BoolVar(&cfg.OpenStdin, "stdin", false, "keep the container's stdin open")
	fs.BoolVar(&cfg.StdinOnce, "stdin-once", false, "close stdin when the first attached client's stdin ends")
	fs.BoolVar(&cfg.StartNow, "start-now", false, "run the process at once (runtime run --detach)")
	fs.BoolVar(&cfg.HoldOutput, "hold-output", false, "replay the output to attaches until released")
	fs.BoolVar(&cfg.Trace, "trace", false, "report when the shim and the runtime's create began and ended")
	fs.DurationVar(&cfg.ExitGrace, "exit-grace", defaultExitGrace, "wait for shutdown after the exit")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.ID == "" || cfg.Bundle == "" || cfg.StateDir == "" || (cfg.LogPath == "" && cfg.Log.Driver != "none") {
		return cfg, errors.New("-id, -bundle, -state-dir and -log (unless -log-driver none) are required")
	}
	return cfg, nil
}

// run is the shim's life: set up, create the container, report, serve until
// the exit is acknowledged.
func run(cfg Config, logger *log.Logger, began time.Time) error {
	// One shim runs per container: keep its heap and threads small (the
	// launcher sets both in the environment already, so that they hold
	// from the runtime's start; a shim started otherwise gets them here).
	debug.SetGCPercent(20)
	if goruntime.GOMAXPROCS(0) > 1 {
		goruntime.GOMAXPROCS(1)
	}
	dropShimRuntimeEnv()

	unix.CloseOnExec(3) // the report pipe must not leak into the runtime and the container
	reportPipe := os.NewFile(3, "report")
	if reportPipe == nil {
		return errors.New("no report pipe on fd 3")
	}
	fail := func(err error) error {
		sendReport(reportPipe, errorReport(err))
		return err
	}
	// The container's pid 1 is re-parented to us when `runtime create` exits.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fail(fmt.Errorf("become child subreaper: %w", err))
	}
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)

	s := newServer(cfg, logger)
	s.idle = &idleTrimmer{delay: idleTrimDelay}
	go reapStrays(s.strays)
	for _, name := range []string{exitName, socketName, initPidName} {
		_ = os.Remove(filepath.Join(cfg.StateDir, name))
	}
	if err := atomicfile.WriteFile(filepath.Join(cfg.StateDir, pidName), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fail(err)
	}
	defer os.Remove(filepath.Join(cfg.StateDir, pidName))
	sock := filepath.Join(cfg.StateDir, socketName)
	var l *net.UnixListener
	err := withSocketPath(sock, func(name string) (err error) {
		l, err = net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"})
		return err
	})
	if err != nil {
		return fail(fmt.Errorf("listen: %w", err))
	}
	l.SetUnlinkOnClose(false) // the name it was bound with may be a /proc/self/fd path
	defer os.Remove(sock)
	defer l.Close()

	created := time.Now()
	if err := s.create(); err != nil {
		return fail(err)
	}
	var times []int64
	if cfg.Trace {
		times = []int64{began.UnixNano(), created.UnixNano(), time.Now().UnixNano()}
	}
	if cfg.StartNow {
		s.mu.Lock()
		if s.state == stateCreated {
			s.state = stateRunning
		}
		s.mu.Unlock()
	}
	if cfg.HoldOutput {
		time.AfterFunc(holdTimeout, s.release)
	}
	go s.reap()
	go s.serve(l)
	sendReport(reportPipe, report{Pid: s.pid, Times: times})
	// The start-up's garbage (flags, the runtime's output, JSON) is most of
	// the heap, and an idle shim may not allocate enough for a GC to run
	// for days: collect it now and give its pages back, off the critical
	// path (the launcher has its report).
	debug.FreeOSMemory()
	// Once the requests that follow (start, attach...) are served, the shim
	// idles: collect again and drop the binary's pages from its resident
	// set (idleTrimmer).
	s.idle.settle()

	// once the container is deleted, berthd has ExitGrace to acknowledge
	// the exit (no goroutine waits for that meanwhile)
	select {
	case <-s.quit:
		return nil
	case <-s.deleted:
	}
	select {
	case <-s.quit:
	case <-time.After(s.cfg.ExitGrace):
		logger.Print("exit not acknowledged; exiting, exit status left in ", exitName)
	}
	return nil
}

// dropShimRuntimeEnv removes the launcher's Go runtime settings
// (shimRuntimeEnv) from the environment the OCI runtime inherits.
func dropShimRuntimeEnv() {
	for _, kv := range shimRuntimeEnv {
		_ = os.Unsetenv(kv[:strings.IndexByte(kv, '=')])
	}
}

func errorReport(err error) report {
	r := errorResponse(err)
	return report{Error: r.Error, Kind: r.Kind, Exec: r.Exec}
}

func sendReport(f *os.File, r report) {
	data, _ := json.Marshal(r)
	_, _ = f.Write(append(data, '\n'))
	_ = f.Close()
}
