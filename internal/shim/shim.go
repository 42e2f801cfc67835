// Package shim is the per-container supervisor, berth-shim (DESIGN.md
// section 1), and the client berthd uses to talk to it. One shim runs per
// container, in its own session so it outlives berthd: it runs the OCI
// runtime's create and start, holds the container's stdio (pipes, or the pty
// master received over the console socket), writes the json-file log, serves
// attach, resize, kill and wait on <StateDir>/shim.sock, reaps the
// container's pid 1 as a child subreaper and records its exit in
// <StateDir>/exit.json.
package shim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Files in the state directory.
const (
	socketName  = "shim.sock" // the shim's API
	pidName     = "shim.pid"  // the shim's own pid
	exitName    = "exit.json" // the container's exit status, once it exited
	logName     = "shim.log"  // the shim's own errors
	initPidName = "init.pid"  // the container's pid 1, written by the runtime
	consoleName = "console.sock"
)

// defaultExitGrace is how long a shim whose container exited waits for berthd
// to acknowledge the exit (Shutdown) before it exits on its own.
const defaultExitGrace = 5 * time.Second

// Config is what a shim supervises.
type Config struct {
	ID, Bundle, StateDir string // StateDir (/run/berth/containers/<id>) holds shim.sock, shim.pid, exit.json, shim.log
	Runtime, RuntimeRoot string // OCI runtime binary and its --root
	LogPath              string // container log
	Log                  LogConfig
	Tty, OpenStdin       bool
	StdinOnce            bool          // close the container's stdin when the first attached client's stdin ends
	ExitGrace            time.Duration // wait for Shutdown after the exit; 0 is 5s
	// StartNow runs the process as part of Start (one runtime invocation);
	// Client.Start is then not needed.
	StartNow bool
	// HoldOutput keeps the output produced before Client.Release in memory
	// and replays it to the attaches that connect until then, so that the
	// attaches waiting for the start miss nothing (docker run) although the
	// process runs before they connect.
	HoldOutput bool
	// Trace has the shim time its own start and the runtime's run, for
	// the trace of the start under way (package trace): Start writes
	// them to the trace its context carries.
	Trace bool
}

// LogConfig is how the shim writes the container's log (docker's log
// driver and --log-opt, resolved by berthd).
type LogConfig struct {
	Driver   string // "json-file" (also when empty), "local" or "none" (no log)
	MaxSize  int64  // rotate past this many bytes; 0 never
	MaxFiles int    // files kept, the current one included
	Compress bool   // gzip rotated files
	Attrs    string // JSON object written as each json-file entry's "attrs"
}

// ExitStatus is how the container's pid 1 ended.
type ExitStatus struct {
	Code      int       `json:"code"` // exit code; 128+signo when killed by a signal, like docker
	ExitedAt  time.Time `json:"exitedAt"`
	OOMKilled bool      `json:"oomKilled"`
}

// AttachOpts are the streams of one attach. Nil streams are not attached.
type AttachOpts struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer // Stderr is ignored with a TTY: everything is on Stdout
	DetachKeys     []byte    // detach sequence (TTY only, like docker); empty is ctrl-p,ctrl-q
	// Attached, if set, is called once the shim streams to this client:
	// output produced after it is delivered, so a caller that starts the
	// container after Attached misses nothing.
	Attached func()
}

// ErrDetached is returned by Attach when the client typed the detach sequence.
var ErrDetached = errors.New("detached from container")

// ReadExitStatus returns the exit status a shim recorded in stateDir; false
// when the container has not exited (or no shim ever ran there).
func ReadExitStatus(stateDir string) (ExitStatus, bool, error) {
	data, err := os.ReadFile(filepath.Join(stateDir, exitName))
	if errors.Is(err, os.ErrNotExist) {
		return ExitStatus{}, false, nil
	}
	if err != nil {
		return ExitStatus{}, false, fmt.Errorf("read exit status: %w", err)
	}
	var st ExitStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return ExitStatus{}, false, fmt.Errorf("read exit status %s: %w", stateDir, err)
	}
	return st, true, nil
}
