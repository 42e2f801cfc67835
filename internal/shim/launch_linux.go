package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/trace"
	"github.com/containerd/errdefs"
)

// report is what a new shim sends its launcher on fd 3 once the container
// is created, or when that failed.
type report struct {
	Pid   int                 `json:"pid,omitempty"`
	Error string              `json:"error,omitempty"`
	Kind  string              `json:"kind,omitempty"`
	Exec  runtime.ExecFailure `json:"exec,omitempty"` // as in response
	// Times, with -trace, are when the shim's main began, and when the
	// runtime's create (or run) began and returned, in Unix nanoseconds.
	Times []int64 `json:"times,omitempty"`
}

// Start launches berth-shim (shimBinary) for cfg in a session of its own, so
// it outlives the caller, and waits until it has created the container (not
// started it). On failure the error carries the runtime's message (a
// *runtime.ExecError when the command could not be executed), the shim is
// gone, and cfg.StateDir is left for the caller to remove.
func Start(ctx context.Context, shimBinary string, cfg Config) (*Client, error) {
	if cfg.ID == "" || cfg.Bundle == "" || cfg.StateDir == "" || (cfg.LogPath == "" && cfg.Log.Driver != "none") {
		return nil, errdefs.ErrInvalidArgument.WithMessage("shim: ID, Bundle, StateDir and LogPath are required")
	}
	if err := os.MkdirAll(cfg.StateDir, 0o711); err != nil {
		return nil, fmt.Errorf("shim: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(cfg.StateDir, logName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("shim: %w", err)
	}
	defer logf.Close()
	rp, wp, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("shim: %w", err)
	}
	defer rp.Close()

	cmd := exec.Command(shimBinary, cfg.args()...)
	cmd.Dir = "/"
	cmd.Env = shimEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{wp} // fd 3: the report
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	tr, began := trace.From(ctx), time.Now()
	err = cmd.Start()
	wp.Close()
	if err != nil {
		return nil, fmt.Errorf("start shim: %w", err)
	}
	execd := time.Now()
	tr.Span("shim fork+exec", began, execd)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // reaps the shim if it ends while we live

	got := make(chan []byte, 1)
	go func() { data, _ := io.ReadAll(rp); got <- data }()
	var data []byte
	select {
	case data = <-got:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
		rt := runtime.Runtime{Path: cfg.Runtime, Root: cfg.RuntimeRoot}
		_ = rt.Delete(context.WithoutCancel(ctx), cfg.ID, true)
		return nil, ctx.Err()
	}
	var rep report
	if err := json.Unmarshal(bytes.TrimSpace(data), &rep); err != nil || (rep.Pid == 0 && rep.Error == "") {
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
		return nil, fmt.Errorf("shim exited before creating the container: %s", lastLine(filepath.Join(cfg.StateDir, logName)))
	}
	var started time.Time
	if tr != nil && len(rep.Times) == 3 {
		main, rt0, rt1 := time.Unix(0, rep.Times[0]), time.Unix(0, rep.Times[1]), time.Unix(0, rep.Times[2])
		started = rt1
		tr.Span("shim Go runtime start", execd, main)
		tr.SpanFrom("shim", "shim setup", main, rt0)
		tr.SpanFrom("shim", "runtime create+start (runc run --detach)", rt0, rt1)
		tr.Span("shim report", rt1, time.Now())
	}
	if rep.Error != "" {
		<-exited
		r := response{Error: rep.Error, Kind: rep.Kind, Exec: rep.Exec}
		return nil, r.err()
	}
	return &Client{stateDir: cfg.StateDir, pid: rep.Pid, tty: cfg.Tty, openStdin: cfg.OpenStdin, stdinOnce: cfg.StdinOnce, started: started}, nil
}

// shimRuntimeEnv is the Go runtime's settings for a shim, in its
// environment because the runtime reads them before main: with GOMAXPROCS=1
// from the start no thread is spun up for a second P during the runtime's
// own start (one thread less, its stacks with it), and the GC runs at 20%
// growth from the first allocation. The shim removes them again (see
// dropShimRuntimeEnv) before it runs the OCI runtime, itself a Go program.
var shimRuntimeEnv = []string{"GOMAXPROCS=1", "GOGC=20"}

// shimEnv is env with shimRuntimeEnv in place of any GOMAXPROCS or GOGC.
func shimEnv(env []string) []string {
	out := make([]string, 0, len(env)+len(shimRuntimeEnv))
	for _, kv := range env {
		if !isShimRuntimeVar(kv) {
			out = append(out, kv)
		}
	}
	return append(out, shimRuntimeEnv...)
}

func isShimRuntimeVar(kv string) bool {
	for _, set := range shimRuntimeEnv {
		name := set[:strings.IndexByte(set, '=')+1]
		if strings.HasPrefix(kv, name) {
			return true
		}
	}
	return false
}

// args is cfg as berth-shim's command line (readable in ps).
func (cfg Config) args() []string {
	args := []string{
		"-id", cfg.ID, "-bundle", cfg.Bundle, "-state-dir", cfg.StateDir,
		"-runtime", cfg.Runtime, "-runtime-root", cfg.RuntimeRoot,
	}
	for _, f := range []struct {
		name string
		on   bool
	}{{"-tty", cfg.Tty}, {"-stdin", cfg.OpenStdin}, {"-stdin-once", cfg.StdinOnce}, {"-start-now", cfg.StartNow}, {"-hold-output", cfg.HoldOutput}, {"-trace", cfg.Trace}} {
		if f.on {
			args = append(args, f.name)
		}
	}
	if cfg.LogPath != "" {
		args = append(args, "-log", cfg.LogPath)
	}
	if l := cfg.Log; l.Driver != "" {
		args = append(args, "-log-driver", l.Driver)
		if l.MaxSize > 0 {
			args = append(args, "-log-max-size", strconv.FormatInt(l.MaxSize, 10), "-log-max-file", strconv.Itoa(l.MaxFiles))
		}
		if l.Compress {
			args = append(args, "-log-compress")
		}
		if l.Attrs != "" {
			args = append(args, "-log-attrs", l.Attrs)
		}
	}
	if cfg.ExitGrace > 0 {
		args = append(args, "-exit-grace", strconv.FormatInt(int64(cfg.ExitGrace/time.Millisecond), 10)+"ms")
	}
	return args
}

// lastLine returns the last line of the shim's own log, for errors.
func lastLine(path string) string {
	data, _ := os.ReadFile(path)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if last := lines[len(lines)-1]; len(last) > 0 {
		return string(last)
	}
	return "no error logged"
}
