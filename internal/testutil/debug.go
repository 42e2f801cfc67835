package testutil

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// DebugSock is the daemon's debug socket: test daemons run with -D, so
// berthd serves pprof and expvar there (GET /debug/pprof/goroutine?debug=1).
func (d *Daemon) DebugSock() string { return filepath.Join(d.ExecRoot, "debug.sock") }

// debugGet reads path from the debug socket.
func (d *Daemon) debugGet(path string) ([]byte, error) {
	resp, err := UnixHTTPClient(d.DebugSock()).Get("http://berthd" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s on the debug socket: %s", path, resp.Status)
	}
	return body, nil
}

// Goroutines is how many goroutines berthd runs, from its goroutine profile.
func (d *Daemon) Goroutines() (int, error) {
	body, err := d.debugGet("/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(body, []byte("\n"))
	n, ok := strings.CutPrefix(string(line), "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("unexpected goroutine profile header %q", line)
	}
	return strconv.Atoi(n)
}

// GoroutineStacks is berthd's goroutine profile grouped by stack (pprof's
// debug=1), for a failure message.
func (d *Daemon) GoroutineStacks() string {
	body, err := d.debugGet("/debug/pprof/goroutine?debug=1")
	if err != nil {
		return err.Error()
	}
	return string(body)
}

// Usage is what berthd holds at one moment.
type Usage struct {
	Goroutines int
	FDs        int   // open file descriptors
	RSS        int64 // resident memory, bytes
}

func (u Usage) String() string {
	return fmt.Sprintf("%d goroutines, %d fds, RSS %.1f MiB", u.Goroutines, u.FDs, float64(u.RSS)/(1<<20))
}

// Usage reads berthd's goroutines (debug socket), open fds and RSS (/proc).
func (d *Daemon) Usage() (Usage, error) {
	var u Usage
	pid := d.Pid()
	if pid == 0 {
		return u, fmt.Errorf("berthd is not running")
	}
	var err error
	if u.Goroutines, err = d.Goroutines(); err != nil {
		return u, err
	}
	if u.FDs, u.RSS, err = ProcUsage(pid); err != nil {
		return u, err
	}
	return u, nil
}

// ProcUsage is a process's open file descriptors and resident memory.
func ProcUsage(pid int) (fds int, rss int64, err error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, 0, err
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("VmRSS %q: %w", v, err)
			}
			rss = kb << 10
		}
	}
	return len(ents), rss, sc.Err()
}

// WaitSettled waits up to timeout for berthd's goroutines and fds to come
// back to at most base's plus slack (idle HTTP connections, timers and the
// GC settle after a burst), and fails t with the goroutine profile if they
// do not. It returns the last usage read.
func (d *Daemon) WaitSettled(t testing.TB, base Usage, slack int, timeout time.Duration) Usage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		u, err := d.Usage()
		if err != nil {
			t.Fatalf("read berthd's usage: %v", err)
		}
		if u.Goroutines <= base.Goroutines+slack && u.FDs <= base.FDs+slack {
			return u
		}
		if time.Now().After(deadline) {
			t.Fatalf("berthd did not settle within %s: %v, baseline %v (slack %d)\n%s", timeout, u, base, slack, d.GoroutineStacks())
			return u
		}
		time.Sleep(100 * time.Millisecond)
	}
}
