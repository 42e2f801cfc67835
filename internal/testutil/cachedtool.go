package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// cachedTool is a client binary the tests drive berthd with (buildx,
// compose v5), built once from the Go module proxy into a cache folder
// outside any test's folder, so that one build serves every run and every
// test process. A lock file in the folder serialises concurrent builders;
// the binary's version output decides whether the cached one will do, so a
// binary built by hand into the folder is used when it is the right one.
type cachedTool struct {
	name         string // the binary's file name in the cache folder
	version      string // the release, e.g. v0.38.2
	cacheEnv     string // the environment variable that overrides defaultCache
	defaultCache string
	// versionOut is what `<binary> version` prints when it is the right
	// release, stamped (an unstamped build prints v0.0.0 or a dev version).
	versionOut string
	// versionArgs are the arguments that print it: ["version"] when nil.
	versionArgs []string
	// build builds the binary with the go toolchain goBin, from the cache
	// folder dir (outside any module), into the empty folder tmp, and
	// returns its path there; ensure then moves it into place, so a
	// half-written binary is never visible.
	build func(goBin, dir, tmp string) (string, error)

	once sync.Once
	path string
	err  error
}

// cache is the folder holding the binary: $cacheEnv, else defaultCache.
func (c *cachedTool) cache() string {
	if dir := os.Getenv(c.cacheEnv); dir != "" {
		return dir
	}
	return c.defaultCache
}

// binary returns the path of the binary in the cache folder, building it
// there on the process's first call when it is missing or another
// version. A cold build (module download and compile) takes minutes.
func (c *cachedTool) binary() (string, error) {
	c.once.Do(func() { c.path, c.err = c.ensure(c.cache()) })
	return c.path, c.err
}

// ensure builds the binary into dir unless the right version is there.
func (c *cachedTool) ensure(dir string) (string, error) {
	bin := filepath.Join(dir, c.name)
	if c.versionOK(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if c.versionOK(bin) { // another process built it while we waited
		return bin, nil
	}
	goBin, err := goToolchain()
	if err != nil {
		return "", fmt.Errorf("%s %s is not in %s and there is no go toolchain to build it: %w", c.name, c.version, dir, err)
	}
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	built, err := c.build(goBin, dir, tmp)
	if err != nil {
		return "", fmt.Errorf("build %s %s into %s (%s): %w", c.name, c.version, dir, time.Since(start).Round(time.Second), err)
	}
	if !c.versionOK(built) {
		return "", fmt.Errorf("the %s built from %s does not report %q", c.name, c.version, c.versionOut)
	}
	if err := os.Rename(built, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// versionOK reports whether bin runs and `bin version` (or its
// versionArgs) prints versionOut.
func (c *cachedTool) versionOK(bin string) bool {
	args := c.versionArgs
	if args == nil {
		args = []string{"version"}
	}
	out, err := exec.Command(bin, args...).Output()
	return err == nil && strings.Contains(string(out), c.versionOut)
}

// goToolchain is the go command: on PATH, else Go's default install.
func goToolchain() (string, error) {
	goBin, err := exec.LookPath("go")
	if err == nil {
		return goBin, nil
	}
	if _, serr := os.Stat("/usr/local/go/bin/go"); serr != nil {
		return "", err
	}
	return "/usr/local/go/bin/go", nil
}

// staticGoEnv is the environment of a tool's build: outside any module
// and workspace (so berth's go.mod is not consulted), static, without VCS
// stamping (the module cache has no repository), plus extra.
func staticGoEnv(extra ...string) []string {
	return setEnv(os.Environ(), append([]string{"CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GO111MODULE=on", "GOWORK=off"}, extra...)...)
}

// runGo runs goBin args in dir with env and returns its standard output;
// on failure the error carries the last lines of its output.
func runGo(goBin, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command(goBin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, lastLines(stderr.String()+stdout.String(), 20))
	}
	return stdout.Bytes(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errNoLock is returned where file locks are not supported.
var errNoLock = errors.New("file locks are not supported on this platform")
