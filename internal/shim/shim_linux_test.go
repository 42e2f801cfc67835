package shim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/logfile"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/runtime/runtimetest"
)

// The launcher mode of the test binary starts a shim and then waits to be
// killed, standing in for a berthd that dies.
const launcherEnv = "BERTH_SHIM_TEST_LAUNCHER"

var shimBinary string // built from cmd/berth-shim

func TestMain(m *testing.M) {
	if runtimetest.Invoked() {
		runtimetest.Main()
	}
	if cfg := os.Getenv(launcherEnv); cfg != "" {
		launcher(cfg)
		return
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "berth-shim-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	shimBinary = filepath.Join(dir, "berth-shim")
	out, err := exec.Command("go", "build", "-o", shimBinary, "github.com/berth-project/berth/cmd/berth-shim").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build berth-shim: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// The shim's behaviours hold over any OCI runtime: the fake one runs them
// without root, the real runc as root.
func TestShimOverFakeRuntime(t *testing.T) { runSuite(t, runtimetest.Fake(t)) }

func TestShimOverRunc(t *testing.T) {
	rt := runtimetest.Runc(t)
	runSuite(t, rt)
	t.Run("KillWithoutRuntime", func(t *testing.T) { testKillWithoutRuntime(t, rt) })
}

func runSuite(t *testing.T, rt runtimetest.Runtime) {
	for _, tt := range []struct {
		name string
		test func(t *testing.T, rt runtimetest.Runtime)
	}{
		{"OutputStreamsAndLog", testOutputStreamsAndLog},
		{"StdinOnce", testStdinOnce},
		{"StdinWithoutOnce", testStdinWithoutOnce},
		{"ExitCode", testExitCode},
		{"Kill", testKill},
		{"KillCreated", testKillCreated},
		{"TTY", testTTY},
		{"CreateError", testCreateError},
		{"SurvivesLauncherAndConnect", testSurvivesLauncherAndConnect},
		{"ExitRecordedWithoutClient", testExitRecordedWithoutClient},
		{"StartNowHoldsOutputUntilRelease", testStartNowHoldsOutputUntilRelease},
		{"NoSignalIgnored", testNoSignalIgnored},
		{"Exec", testExec},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, rt) })
	}
}

// launcher starts a container's shim, starts the container, prints the pid
// and sleeps until killed.
func launcher(cfgJSON string) {
	var cfg Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		panic(err)
	}
	os.Unsetenv(launcherEnv)
	c, err := Start(context.Background(), os.Getenv("BERTH_SHIM_BINARY"), cfg)
	if err == nil {
		err = c.Start(context.Background())
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(c.Pid())
	time.Sleep(time.Hour)
}

// env is one container under test.
type env struct {
	t   *testing.T
	cfg Config
}

// newEnv writes a bundle running args for rt and a config whose state
// lives in temp dirs removed at the end of the test, with the shim,
// container and runtime state.
func newEnv(t *testing.T, rt runtimetest.Runtime, args []string, tty, openStdin, stdinOnce bool) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, cfg: Config{
		ID:          fmt.Sprintf("berth-shim-test-%d-%d", os.Getpid(), time.Now().UnixNano()),
		Bundle:      rt.Bundle(t, args, tty),
		StateDir:    filepath.Join(dir, "state"),
		Runtime:     rt.Path,
		RuntimeRoot: filepath.Join(dir, "runtime"),
		LogPath:     filepath.Join(dir, "container.log"),
		Tty:         tty,
		OpenStdin:   openStdin,
		StdinOnce:   stdinOnce,
		ExitGrace:   time.Second,
	}}
	t.Cleanup(e.cleanup)
	return e
}

// cleanup stops whatever the test left: shim, container, runtime state.
func (e *env) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if c, err := Connect(ctx, e.cfg.StateDir); err == nil {
		_ = c.Shutdown(ctx)
	}
	if pid := e.shimPid(); pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = exec.Command(e.cfg.Runtime, "--root", e.cfg.RuntimeRoot, "delete", "--force", e.cfg.ID).Run()
}

func (e *env) shimPid() int {
	data, err := os.ReadFile(filepath.Join(e.cfg.StateDir, pidName))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(string(data))
	return pid
}

func (e *env) start() *Client {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Start(ctx, shimBinary, e.cfg)
	if err != nil {
		e.t.Fatalf("shim.Start: %v\nshim.log: %s", err, e.shimLog())
	}
	if c.Pid() <= 0 {
		e.t.Fatalf("pid = %d", c.Pid())
	}
	return c
}

func (e *env) shimLog() string {
	data, _ := os.ReadFile(filepath.Join(e.cfg.StateDir, logName))
	return string(data)
}

// attach runs Attach in the background and returns once it is streaming.
func (e *env) attach(c *Client, o AttachOpts) <-chan error {
	e.t.Helper()
	ready := make(chan struct{})
	o.Attached = func() { close(ready) }
	done := make(chan error, 1)
	go func() { done <- c.Attach(context.Background(), o) }()
	select {
	case <-ready:
	case err := <-done:
		e.t.Fatalf("attach: %v", err)
	case <-time.After(10 * time.Second):
		e.t.Fatal("attach: timeout")
	}
	return done
}

func (e *env) wait(c *Client) ExitStatus {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := c.Wait(ctx)
	if err != nil {
		e.t.Fatalf("wait: %v\nshim.log: %s", err, e.shimLog())
	}
	return st
}

func (e *env) logEntries() []logfile.Message {
	msgs, errs := logfile.Read(context.Background(), e.cfg.LogPath, logfile.ReadOptions{Tail: -1}, nil)
	var got []logfile.Message
	for m := range msgs {
		got = append(got, m)
	}
	if err := <-errs; err != nil {
		e.t.Fatal(err)
	}
	return got
}

func waitErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: timeout", what)
		return nil
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func processGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// a zombie left for its parent to reap is gone too
	fields := strings.Fields(string(data))
	return len(fields) > 2 && fields[2] == "Z"
}

func testOutputStreamsAndLog(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"sh", "-c", "echo hello; echo err >&2"}, false, false, false)
	c := e.start()
	var out1, err1, out2 syncBuffer
	a1 := e.attach(c, AttachOpts{Stdout: &out1, Stderr: &err1})
	a2 := e.attach(c, AttachOpts{Stdout: &out2}) // a second client: fan-out, no stderr
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, a1, "attach 1"); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, a2, "attach 2"); err != nil {
		t.Fatal(err)
	}
	if out1.String() != "hello\n" || err1.String() != "err\n" || out2.String() != "hello\n" {
		t.Fatalf("attach got stdout %q stderr %q, second client %q", out1.String(), err1.String(), out2.String())
	}
	if st := e.wait(c); st.Code != 0 || st.ExitedAt.IsZero() || time.Since(st.ExitedAt) > time.Minute {
		t.Fatalf("exit = %+v", st)
	}
	got := map[string]string{}
	for _, m := range e.logEntries() {
		got[m.Stream] += string(m.Line)
	}
	if got["stdout"] != "hello\n" || got["stderr"] != "err\n" {
		t.Fatalf("log = %q", got)
	}
	// Attaching after the exit ends at once; Start again is refused.
	if err := c.Attach(context.Background(), AttachOpts{Stdout: io.Discard}); err != nil {
		t.Fatalf("attach after exit: %v", err)
	}
	if err := c.Start(context.Background()); !errdefs.IsConflict(err) {
		t.Fatalf("start after exit: %v", err)
	}
	if err := c.Kill(context.Background(), syscall.SIGTERM); !errdefs.IsNotFound(err) {
		t.Fatalf("kill after exit: %v", err)
	}
	pid := e.shimPid()
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	waitFor(t, "shim exit", func() bool { return processGone(pid) })
	if _, err := os.Stat(filepath.Join(e.cfg.StateDir, socketName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left behind: %v", err)
	}
	if out, err := exec.Command(e.cfg.Runtime, "--root", e.cfg.RuntimeRoot, "state", e.cfg.ID).CombinedOutput(); err == nil {
		t.Fatalf("container still known to the runtime: %s", out)
	}
}

func testStdinOnce(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"cat"}, false, true, true)
	c := e.start()
	var out syncBuffer
	a := e.attach(c, AttachOpts{Stdin: strings.NewReader("one\ntwo\n"), Stdout: &out, Stderr: &out})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// EOF on the client's stdin closes cat's stdin: cat exits, the attach ends.
	if err := waitErr(t, a, "attach"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "one\ntwo\n" {
		t.Fatalf("got %q", out.String())
	}
	if st := e.wait(c); st.Code != 0 {
		t.Fatalf("exit = %+v", st)
	}
}

func testStdinWithoutOnce(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"cat"}, false, true, false)
	c := e.start()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	// Without StdinOnce the end of the client's input ends its attach only.
	a := e.attach(c, AttachOpts{Stdin: strings.NewReader("one\n"), Stdout: &out})
	if err := waitErr(t, a, "attach"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "cat's output in the log", func() bool { return len(e.logEntries()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cat should still run: %v", err)
	}
	if err := c.Kill(context.Background(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := e.wait(c); st.Code != 137 {
		t.Fatalf("exit = %+v", st)
	}
}

func testExitCode(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"sh", "-c", "exit 3"}, false, false, false)
	c := e.start()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := e.wait(c); st.Code != 3 {
		t.Fatalf("exit = %+v", st)
	}
	// Concurrent and repeated waits all see it.
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, err := c.Wait(context.Background()); err != nil || st.Code != 3 {
				t.Errorf("wait: %+v %v", st, err)
			}
		}()
	}
	wg.Wait()
	st, ok, err := ReadExitStatus(e.cfg.StateDir)
	if err != nil || !ok || st.Code != 3 {
		t.Fatalf("exit.json: %+v %v %v", st, ok, err)
	}
}

func testKill(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"sleep", "100"}, false, false, false)
	c := e.start()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("berth-shim VmRSS with a running container: %s", rss(e.shimPid()))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait on a running container: %v", err)
	}
	if err := c.Kill(context.Background(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := e.wait(c); st.Code != 137 || st.OOMKilled {
		t.Fatalf("exit = %+v", st)
	}
}

func testKillCreated(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"sleep", "100"}, false, false, false)
	c := e.start()
	// Shutdown of a container never started kills and deletes it.
	pid := e.shimPid()
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "shim exit", func() bool { return processGone(pid) })
	if st, ok, _ := ReadExitStatus(e.cfg.StateDir); !ok || st.Code != 137 {
		t.Fatalf("exit.json: %+v %v", st, ok)
	}
}

func rss(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "unknown"
}

func testTTY(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"sh"}, true, true, false)
	c := e.start()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Resize(context.Background(), 100, 40); err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	defer inW.Close()
	var out syncBuffer
	a := e.attach(c, AttachOpts{Stdin: inR, Stdout: &out, Stderr: io.Discard})
	io.WriteString(inW, "stty size\n")
	waitFor(t, "stty size 40 100", func() bool { return strings.Contains(out.String(), "40 100") })
	if err := c.Resize(context.Background(), 120, 50); err != nil {
		t.Fatal(err)
	}
	io.WriteString(inW, "stty size\n")
	waitFor(t, "stty size 50 120", func() bool { return strings.Contains(out.String(), "50 120") })

	// ctrl-p ctrl-q detaches; the shell keeps running.
	io.WriteString(inW, "\x10\x11")
	if err := waitErr(t, a, "detach"); !errors.Is(err, ErrDetached) {
		t.Fatalf("attach after detach keys: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the shell should still run: %v", err)
	}

	// Attach again and end the shell.
	inR2, inW2 := io.Pipe()
	defer inW2.Close()
	var out2 syncBuffer
	a2 := e.attach(c, AttachOpts{Stdin: inR2, Stdout: &out2})
	io.WriteString(inW2, "echo again; exit 5\n")
	if err := waitErr(t, a2, "attach 2"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out2.String(), "again") {
		t.Fatalf("second attach got %q", out2.String())
	}
	if st := e.wait(c); st.Code != 5 {
		t.Fatalf("exit = %+v", st)
	}
	for _, m := range e.logEntries() {
		if m.Stream != "stdout" {
			t.Fatalf("TTY log entry on %s: %q", m.Stream, m.Line)
		}
	}
}

// A command that cannot be executed fails Start with its class (docker's
// 127 or 126), carried over the report pipe as a field.
func testCreateError(t *testing.T, rt runtimetest.Runtime) {
	for _, tt := range []struct {
		cmd, msg string
		want     runtime.ExecFailure
	}{
		{"nonexistent-cmd", "executable file not found", runtime.CommandNotFound},
		{"/bin", "permission denied", runtime.CommandNotInvocable}, // a directory
	} {
		t.Run(tt.cmd, func(t *testing.T) {
			e := newEnv(t, rt, []string{tt.cmd}, false, false, false)
			_, err := Start(context.Background(), shimBinary, e.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.msg) || !errdefs.IsInvalidArgument(err) {
				t.Fatalf("err = %v", err)
			}
			if ee, ok := errors.AsType[*runtime.ExecError](err); !ok || ee.Failure != tt.want {
				t.Fatalf("err = %#v, want a runtime.ExecError (%s)", err, tt.want)
			}
			if pid := e.shimPid(); pid != 0 {
				t.Fatalf("shim.pid left: %d", pid)
			}
			if _, err := Connect(context.Background(), e.cfg.StateDir); !errdefs.IsNotFound(err) {
				t.Fatalf("connect: %v", err)
			}
			if entries := e.logEntries(); len(entries) != 0 {
				t.Fatalf("runtime error leaked into the container log: %q", entries[0].Line)
			}
		})
	}
}

// startFromLauncher starts the container from a child process and kills it
// with SIGKILL, as a berthd crash would.
func startFromLauncher(t *testing.T, e *env) int {
	t.Helper()
	cfgJSON, _ := json.Marshal(e.cfg)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), launcherEnv+"="+string(cfgJSON), "BERTH_SHIM_BINARY="+shimBinary)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("launcher said %q\nshim.log: %s", line, e.shimLog())
	}
	return pid
}

func testSurvivesLauncherAndConnect(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"sh", "-c", "echo started; exec sleep 100"}, false, false, false)
	pid := startFromLauncher(t, e)
	c, err := Connect(context.Background(), e.cfg.StateDir)
	if err != nil {
		t.Fatalf("connect: %v\nshim.log: %s", err, e.shimLog())
	}
	if c.Pid() != pid {
		t.Fatalf("pid = %d, want %d", c.Pid(), pid)
	}
	waitFor(t, "output in the log", func() bool { return len(e.logEntries()) == 1 })
	if err := c.Kill(context.Background(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st := e.wait(c); st.Code != 137 {
		t.Fatalf("exit = %+v", st)
	}
}

func testExitRecordedWithoutClient(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"sh", "-c", "echo bye; exit 7"}, false, false, false)
	startFromLauncher(t, e)
	shimPid := e.shimPid()
	// Nobody acknowledges the exit: the shim leaves exit.json and goes.
	waitFor(t, "shim exit", func() bool { return processGone(shimPid) })
	st, ok, err := ReadExitStatus(e.cfg.StateDir)
	if err != nil || !ok || st.Code != 7 {
		t.Fatalf("exit.json: %+v %v %v", st, ok, err)
	}
	if _, err := Connect(context.Background(), e.cfg.StateDir); !errdefs.IsNotFound(err) {
		t.Fatalf("connect to a gone shim: %v", err)
	}
	if got := e.logEntries(); len(got) != 1 || string(got[0].Line) != "bye\n" {
		t.Fatalf("log = %v", got)
	}
	// A client of the gone shim reads the status left on disk.
	c := &Client{stateDir: e.cfg.StateDir}
	if st := e.wait(c); st.Code != 7 {
		t.Fatalf("wait = %+v", st)
	}
}

// With StartNow and HoldOutput the process runs before anyone attaches: an
// attach that connects afterwards (even after the exit) still gets all the
// output, until Release; later attaches get only later output.
func testStartNowHoldsOutputUntilRelease(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"sh", "-c", "echo early; echo oops >&2"}, false, false, false)
	e.cfg.StartNow, e.cfg.HoldOutput = true, true
	c := e.start()
	if st := e.wait(c); st.Code != 0 {
		t.Fatalf("exit = %+v", st)
	}
	var out, errOut syncBuffer
	if err := c.Attach(context.Background(), AttachOpts{Stdout: &out, Stderr: &errOut}); err != nil {
		t.Fatalf("attach after the exit: %v", err)
	}
	if out.String() != "early\n" || errOut.String() != "oops\n" {
		t.Fatalf("held output replayed as stdout %q stderr %q, want \"early\\n\" and \"oops\\n\"", out.String(), errOut.String())
	}
	if err := c.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	var late syncBuffer
	if err := c.Attach(context.Background(), AttachOpts{Stdout: &late}); err != nil {
		t.Fatalf("attach after release: %v", err)
	}
	if late.String() != "" {
		t.Fatalf("attach after release got %q, want nothing", late.String())
	}
	if err := c.Start(context.Background()); !errdefs.IsConflict(err) {
		t.Fatalf("start of a container started by the shim: %v", err)
	}
}

// The signals the shim ignores (SIGHUP, SIGINT, SIGPIPE) are not ignored in
// the container: ctrl-c on a TTY reaches its process.
func testNoSignalIgnored(t *testing.T, rt runtimetest.Runtime) {
	e := newEnv(t, rt, []string{"cat", "/proc/self/status"}, false, false, false)
	e.cfg.StartNow = true
	if st := e.wait(e.start()); st.Code != 0 {
		t.Fatalf("exit = %+v", st)
	}
	for _, m := range e.logEntries() {
		if ign, ok := strings.CutPrefix(string(m.Line), "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(ign), 16, 64)
			if err != nil {
				t.Fatalf("SigIgn %q: %v", ign, err)
			}
			// what the test's own parent ignores (make ignores signal 32,
			// say) is inherited through any runtime; the shim's own must not be
			const shimIgnored = 1<<(syscall.SIGHUP-1) | 1<<(syscall.SIGINT-1) | 1<<(syscall.SIGPIPE-1)
			if mask&shimIgnored != 0 {
				t.Fatalf("the container's process ignores the shim's signals: SigIgn %016x", mask)
			}
			return
		}
	}
	t.Fatal("no SigIgn in /proc/self/status")
}

// The runtime's failures, injected into the fake (runc cannot be made to
// fail on purpose), reach the shim's client with their class, and the shim
// survives them.
func TestShimRuntimeFailures(t *testing.T) {
	rt := runtimetest.Fake(t)
	t.Run("create", func(t *testing.T) {
		e := newEnv(t, rt, []string{"true"}, false, false, false)
		runtimetest.Inject(t, e.cfg.Bundle, "create", "container with given ID already exists")
		_, err := Start(context.Background(), shimBinary, e.cfg)
		if !errdefs.IsAlreadyExists(err) || !strings.Contains(err.Error(), "container with given ID already exists") {
			t.Fatalf("err = %v", err)
		}
		if pid := e.shimPid(); pid != 0 {
			t.Fatalf("shim.pid left: %d", pid)
		}
	})
	t.Run("start", func(t *testing.T) {
		e := newEnv(t, rt, []string{"sleep", "100"}, false, false, false)
		runtimetest.Inject(t, e.cfg.Bundle, "start", "cannot start a container that has stopped")
		c := e.start()
		if err := c.Start(context.Background()); !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "has stopped") {
			t.Fatalf("start: %v", err)
		}
		// still created: a kill ends it
		if err := c.Kill(context.Background(), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if st := e.wait(c); st.Code != 137 {
			t.Fatalf("exit = %+v", st)
		}
	})
	t.Run("delete after the exit", func(t *testing.T) {
		e := newEnv(t, rt, []string{"sh", "-c", "exit 4"}, false, false, false)
		e.cfg.StartNow = true
		runtimetest.Inject(t, e.cfg.Bundle, "delete", "delete broke")
		c := e.start()
		if st := e.wait(c); st.Code != 4 {
			t.Fatalf("exit = %+v", st)
		}
		if st, ok, err := ReadExitStatus(e.cfg.StateDir); err != nil || !ok || st.Code != 4 {
			t.Fatalf("exit.json: %+v %v %v", st, ok, err)
		}
		if err := c.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if log := e.shimLog(); !strings.Contains(log, "delete broke") {
			t.Fatalf("shim.log does not report the failed delete: %s", log)
		}
	})
}
