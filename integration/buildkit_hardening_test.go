//go:build linux

package integration

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bkclient "github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"

	"github.com/berth-project/berth/internal/testutil"
)

// rawUpgrade sends POST path asking for h2c with the given headers and
// extra bytes after the request, and returns the connection and the
// status line's code.
func rawUpgrade(t *testing.T, d *testutil.Daemon, path string, header map[string]string, after string) (net.Conn, int) {
	t.Helper()
	conn, err := net.Dial("unix", d.Sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "POST " + path + " HTTP/1.1\r\nHost: berthd\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
	for k, v := range header {
		req += k + ": " + v + "\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n" + after)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, resp.StatusCode
}

// TestBuildEngineSessionRefusals: a second /session with the id of one
// being served is refused with dockerd's 400 (BuildKit's manager would
// let it replace the first), the id is free again once the first ends,
// and garbage after a 101 only ends that connection.
func TestBuildEngineSessionRefusals(t *testing.T) {
	d := testutil.StartDaemon(t)
	id := unique("session")
	header := map[string]string{"X-Docker-Expose-Session-Uuid": id, "X-Docker-Expose-Session-Name": "test"}
	first, code := rawUpgrade(t, d, "/session", header, "")
	if code != http.StatusSwitchingProtocols {
		t.Fatalf("first session: %d", code)
	}
	if _, code := rawUpgrade(t, d, "/session", header, ""); code != http.StatusBadRequest {
		t.Errorf("second session with id %s: %d, want 400", id, code)
	}
	first.Close()
	waitFor(t, 30*time.Second, "the session id to be free again", func() bool {
		c, code := rawUpgrade(t, d, "/session", header, "")
		c.Close()
		return code == http.StatusSwitchingProtocols
	})

	for _, path := range []string{"/grpc", "/session"} {
		c, code := rawUpgrade(t, d, path, map[string]string{"X-Docker-Expose-Session-Uuid": unique("garbage")}, strings.Repeat("not http/2\r\n", 100))
		if code != http.StatusSwitchingProtocols {
			t.Errorf("%s: %d", path, code)
		}
		c.Close()
	}
	d.Berth(t, "version").Success(t)
}

// daemonResources counts berthd's threads and open files.
func daemonResources(t *testing.T, pid int) (threads, fds int) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			threads, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return threads, len(entries)
}

// processesRunning lists the pids whose command line holds marker.
func processesRunning(marker string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), marker) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// engineLeftovers lists what of a cancelled build is left: the RUN's
// process, mounts under berthd's roots, build network namespaces.
func engineLeftovers(d *testutil.Daemon, marker string) []string {
	var left []string
	for _, pid := range processesRunning(marker) {
		left = append(left, "process "+pid)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 4 && (strings.HasPrefix(f[4], filepath.Join(d.ExecRoot, "buildkit")) ||
			strings.HasPrefix(f[4], filepath.Join(d.DataRoot, "buildkit"))) {
			left = append(left, "mount "+f[4])
		}
	}
	entries, _ := os.ReadDir(filepath.Join(d.ExecRoot, "netns"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "build-") {
			left = append(left, "netns "+e.Name())
		}
	}
	return left
}

// TestBuildEngineClientDisconnect: a client that goes away mid-RUN (the
// BuildKit Go client over /grpc cancelling, berth-build killed with
// SIGKILL) cancels the build: its process, mounts and network namespace
// go, and berthd's threads and open files come back to where they were.
func TestBuildEngineClientDisconnect(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox(t)
	// a first build starts BuildKit, whose threads and files stay
	warm := t.TempDir()
	if err := os.WriteFile(filepath.Join(warm, "Dockerfile"), []byte("FROM busybox\nRUN true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	solveDockerfile(t, buildKitClient(t, d), warm, map[string]string{})
	time.Sleep(2 * time.Second)
	threads0, fds0 := daemonResources(t, d.Pid())

	for i := range 3 {
		marker := strconv.Itoa(700000 + int(time.Now().UnixNano()%100000) + i)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN sleep "+marker+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			cancelGRPCBuild(t, d, dir, marker)
		} else {
			killBerthBuild(t, d, dir, marker)
		}
		var left []string
		eventually(30*time.Second, func() bool {
			left = engineLeftovers(d, "sleep "+marker)
			return len(left) == 0
		})
		if len(left) > 0 {
			t.Fatalf("cycle %d: left after the client went: %v", i, left)
		}
	}
	var threads, fds int
	eventually(30*time.Second, func() bool {
		threads, fds = daemonResources(t, d.Pid())
		return fds <= fds0+2 && threads <= threads0+4
	})
	if fds > fds0+2 || threads > threads0+4 {
		t.Errorf("after 3 cancelled builds: %d threads, %d fds; before: %d, %d", threads, fds, threads0, fds0)
	}
	t.Logf("berthd before: %d threads, %d fds; after 3 cancelled builds: %d, %d", threads0, fds0, threads, fds)
}

// waitRunning waits for the RUN holding marker to run.
func waitRunning(t *testing.T, marker string) {
	t.Helper()
	waitFor(t, 2*time.Minute, "the RUN to start", func() bool { return len(processesRunning("sleep "+marker)) > 0 })
}

// cancelGRPCBuild starts a build through /grpc and cancels it mid-RUN.
func cancelGRPCBuild(t *testing.T, d *testutil.Daemon, dir, marker string) {
	c := buildKitClient(t, d)
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Solve(ctx, nil, bkclient.SolveOpt{
			Frontend:      "dockerfile.v0",
			FrontendAttrs: map[string]string{"filename": "Dockerfile"},
			LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
			Exports:       []bkclient.ExportEntry{{Type: "moby", Attrs: map[string]string{"name": unique("cancelled")}}},
		}, nil)
		done <- err
	}()
	waitRunning(t, marker)
	cancel()
	c.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a cancelled build succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Solve did not return after its cancel")
	}
}

// killBerthBuild runs berth-build and kills it with SIGKILL mid-RUN.
func killBerthBuild(t *testing.T, d *testutil.Daemon, dir, marker string) {
	cmd := exec.Command(filepath.Join(d.BinDir, "berth-build"), "-H", d.Host, "build", "--progress", "plain", "-t", unique("killed"), dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, marker)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// eventually polls cond until it holds or timeout passes, and says whether
// it held.
func eventually(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestBuildEngineShutdownDuringBuild: SIGTERM while a RUN runs (one build
// through /grpc, one classic POST /build) ends berthd within its shutdown
// timeout, cleanly: the builds fail, their processes, mounts and
// namespaces go, nothing in the log says a store was used after close,
// and the restarted engine builds again.
func TestBuildEngineShutdownDuringBuild(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox(t)
	marker := strconv.Itoa(800000 + int(time.Now().UnixNano()%100000))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN sleep "+marker+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := buildKitClient(t, d)
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Solve(context.Background(), nil, bkclient.SolveOpt{
			Frontend:      "dockerfile.v0",
			FrontendAttrs: map[string]string{"filename": "Dockerfile"},
			LocalMounts:   map[string]fsutil.FS{"context": fs, "dockerfile": fs},
			Exports:       []bkclient.ExportEntry{{Type: "moby", Attrs: map[string]string{"name": unique("shutdown")}}},
		}, nil)
		done <- err
	}()
	waitRunning(t, marker)
	began := time.Now()
	if err := d.Stop(); err != nil {
		t.Fatalf("SIGTERM during a build: %v", err)
	}
	t.Logf("berthd stopped %s after SIGTERM", time.Since(began).Round(time.Millisecond))
	select {
	case err := <-done:
		if err == nil {
			t.Error("the build outlived berthd")
		}
	case <-time.After(30 * time.Second):
		t.Error("the client's Solve did not end with berthd")
	}
	var left []string
	eventually(30*time.Second, func() bool {
		left = engineLeftovers(d, "sleep "+marker)
		return len(left) == 0
	})
	if len(left) > 0 {
		t.Errorf("left after berthd stopped: %v", left)
	}
	for _, bad := range []string{"panic", "database not open", "closed"} {
		if log := d.Log(); strings.Contains(log, bad) {
			t.Errorf("berthd's log says %q:\n%s", bad, d.LogTail(40))
			break
		}
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN echo again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	solveDockerfile(t, buildKitClient(t, d), dir, map[string]string{})
}

// TestBuildEngineConcurrentFirstBuilds: two builds that arrive together
// on an engine that never built both succeed, and BuildKit starts once.
func TestBuildEngineConcurrentFirstBuilds(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.LoadBusybox(t)
	errs := make(chan string, 2)
	for i := range 2 {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(fmt.Sprintf("FROM busybox\nRUN echo %d > /n\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		go func() {
			var id string
			// solveDockerfile fails the test with t.Fatal: still report
			defer func() { errs <- id }()
			res := solveDockerfile(t, buildKitClient(t, d), dir, map[string]string{"name": unique("first")})
			id = res.resp.ExporterResponse["containerimage.digest"]
		}()
	}
	for range 2 {
		if id := <-errs; !strings.HasPrefix(id, "sha256:") {
			t.Errorf("a first build exported %q", id)
		}
	}
	if n := strings.Count(d.Log(), "BuildKit started"); n != 1 {
		t.Errorf("BuildKit started %d times", n)
	}
}
