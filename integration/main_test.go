//go:build linux

package integration

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// The shared daemon serves every test that does not stop, kill or restart
// berthd; it is started on first use and torn down after the last test.
var shared struct {
	once sync.Once
	d    *testutil.Daemon
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.d != nil {
		if code != 0 {
			fmt.Fprintf(os.Stderr, "shared berthd log kept at %s; last lines:\n%s\n", shared.d.SaveLog(), shared.d.LogTail(40))
		}
		if err := shared.d.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "tear down the shared berthd: %v\n", err)
			code = 1
		}
	}
	testutil.RemoveBuiltBinaries()
	removeStaticBinaries()
	os.Exit(code)
}

// sharedDaemon returns the shared berthd with busybox:latest loaded. It
// skips t without root.
func sharedDaemon(t *testing.T) *testutil.Daemon {
	t.Helper()
	testutil.RequiresRoot(t)
	shared.once.Do(func() {
		d, err := testutil.NewDaemon()
		if err != nil {
			shared.err = err
			return
		}
		if err := d.Start(); err != nil {
			shared.err = err
			d.Close()
			return
		}
		shared.d = d
	})
	if shared.err != nil {
		t.Fatalf("shared berthd: %v", shared.err)
	}
	shared.d.LoadBusybox(t)
	return shared.d
}

// ownDaemon starts a berthd for t alone, with busybox:latest loaded.
func ownDaemon(t *testing.T) *testutil.Daemon {
	t.Helper()
	d := testutil.StartDaemon(t)
	d.LoadBusybox(t)
	return d
}

// cli is one of the two command-line clients every test drives berthd with.
type cli struct {
	name string
	d    *testutil.Daemon
}

// run runs the client with args.
func (c cli) run(t testing.TB, args ...string) *testutil.Result {
	t.Helper()
	if c.name == "docker" {
		return c.d.Docker(t, args...)
	}
	return c.d.Berth(t, args...)
}

// ok runs the client, fails t unless it exits 0 and returns trimmed stdout.
func (c cli) ok(t testing.TB, args ...string) string {
	t.Helper()
	return c.run(t, args...).Success(t).Out()
}

// runStdin runs the client with stdin.
func (c cli) runStdin(t testing.TB, stdin string, args ...string) *testutil.Result {
	t.Helper()
	if c.name == "docker" {
		return c.d.DockerStdin(t, strings.NewReader(stdin), args...)
	}
	return c.d.BerthStdin(t, strings.NewReader(stdin), args...)
}

// cmd is the client's command, for tests that stream or use a pty.
func (c cli) cmd(args ...string) *exec.Cmd {
	if c.name == "docker" {
		return c.d.DockerCmd(args...)
	}
	return c.d.BerthCmd(args...)
}

// eachCLI runs f as a subtest for berth, then for the docker CLI (skipped
// with a message where it is not installed).
func eachCLI(t *testing.T, d *testutil.Daemon, f func(t *testing.T, c cli)) {
	t.Helper()
	for _, name := range []string{"berth", "docker"} {
		t.Run(name, func(t *testing.T) {
			if name == "docker" {
				testutil.RequiresDockerCLI(t)
			}
			f(t, cli{name: name, d: d})
		})
	}
}

// unique returns a container or image name no other run uses.
func unique(base string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "it-" + base + "-" + hex.EncodeToString(b)
}

// rmOnCleanup force-removes the container when t ends, through the API, so
// the shared daemon does not accumulate running containers.
func rmOnCleanup(t *testing.T, d *testutil.Daemon, name string) {
	t.Helper()
	t.Cleanup(func() { d.Berth(t, "rm", "-f", name) })
}

// waitFor polls cond every 50ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// inspect returns `berth inspect -f tmpl name`, failing t on error.
func inspect(t testing.TB, d *testutil.Daemon, name, tmpl string) string {
	t.Helper()
	return d.Berth(t, "inspect", "-f", tmpl, name).Success(t).Out()
}

var (
	fullID  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	shortID = regexp.MustCompile(`^[0-9a-f]{12}$`)
)

// lines splits trimmed output into lines, none for empty output.
func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
