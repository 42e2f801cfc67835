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
	"testing"
	"time"
)

// BuildxVersion is the buildx release the tests drive berthd with.
const BuildxVersion = "v0.38.2"

// BuildxPackage is what `go install` builds buildx from (the Go module proxy).
const BuildxPackage = "github.com/docker/buildx/cmd/buildx"

// BuildxCacheEnv names the environment variable that overrides the folder
// buildx is built into (DefaultBuildxCache otherwise).
const BuildxCacheEnv = "BERTH_BUILDX_CACHE"

// DefaultBuildxCache is where buildx is built when BERTH_BUILDX_CACHE is
// unset: outside any test's folder, so one build serves every run.
const DefaultBuildxCache = "/tmp/buildx-cache"

// BuildxCache is the folder holding the buildx binary.
func BuildxCache() string {
	if dir := os.Getenv(BuildxCacheEnv); dir != "" {
		return dir
	}
	return DefaultBuildxCache
}

var buildx struct {
	once sync.Once
	path string
	err  error
}

// BuildxBinary returns the path of buildx BuildxVersion in BuildxCache,
// building it there with `go install` when it is missing or another
// version. Concurrent processes build it once (a lock file serialises them).
// A cold build (module download and compile) takes minutes.
func BuildxBinary() (string, error) {
	buildx.once.Do(func() { buildx.path, buildx.err = ensureBuildx(BuildxCache()) })
	return buildx.path, buildx.err
}

// ensureBuildx builds buildx into dir unless the right version is there.
func ensureBuildx(dir string) (string, error) {
	bin := filepath.Join(dir, "buildx")
	if buildxVersionOK(bin) {
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
	if buildxVersionOK(bin) { // another process built it while we waited
		return bin, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		if _, serr := os.Stat("/usr/local/go/bin/go"); serr != nil {
			return "", fmt.Errorf("buildx %s is not in %s and there is no go toolchain to build it: %w", BuildxVersion, dir, err)
		}
		goBin = "/usr/local/go/bin/go"
	}
	start := time.Now()
	cmd := exec.Command(goBin, "install", "-ldflags", "-X github.com/docker/buildx/version.Version="+BuildxVersion, BuildxPackage+"@"+BuildxVersion)
	// Outside any module (so the repository's go.mod is not consulted), static.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GO111MODULE=on")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s (GOBIN=%s) failed after %s: %w\n%s", BuildxPackage, BuildxVersion, dir, time.Since(start).Round(time.Second), err, lastLines(out.String(), 20))
	}
	if !buildxVersionOK(bin) {
		return "", fmt.Errorf("%s does not report version %s after go install", bin, BuildxVersion)
	}
	return bin, nil
}

// buildxVersionOK reports whether bin runs and reports BuildxVersion.
func buildxVersionOK(bin string) bool {
	out, err := exec.Command(bin, "version").Output()
	return err == nil && strings.Contains(string(out), " "+BuildxVersion)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// InstallBuildxPlugin makes buildx the docker CLI plugin
// <configDir>/cli-plugins/docker-buildx (a symbolic link to bin), so the
// docker CLI run with DOCKER_CONFIG=configDir has `docker buildx` and sends
// `docker build` through it.
func InstallBuildxPlugin(configDir, bin string) error {
	plugins := filepath.Join(configDir, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return err
	}
	link := filepath.Join(plugins, "docker-buildx")
	if target, err := os.Readlink(link); err == nil && target == bin {
		return nil
	}
	tmp := fmt.Sprintf("%s.%d.tmp", link, os.Getpid())
	_ = os.Remove(tmp)
	if err := os.Symlink(bin, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

// RequiresBuildx returns the buildx binary, building it on first use; it
// skips t with the reason when buildx cannot be built here.
func RequiresBuildx(t testing.TB) string {
	t.Helper()
	bin, err := BuildxBinary()
	if err != nil {
		t.Skipf("skipping the buildx half: buildx %s cannot be built here: %v", BuildxVersion, err)
	}
	return bin
}

// DockerConfig is the private DOCKER_CONFIG folder the docker CLI runs with
// against this daemon.
func (d *Daemon) DockerConfig() string { return filepath.Join(d.Root, "docker-config") }

// RequiresBuildx installs buildx as a docker CLI plugin in the daemon's
// private docker config, so d.Docker(t, "build", ...) and
// d.Docker(t, "buildx", ...) go through it. It skips t when the docker CLI
// is missing or buildx cannot be built.
func (d *Daemon) RequiresBuildx(t testing.TB) {
	t.Helper()
	RequiresDockerCLI(t)
	bin := RequiresBuildx(t)
	if err := InstallBuildxPlugin(d.DockerConfig(), bin); err != nil {
		t.Fatalf("install the buildx plugin: %v", err)
	}
}

// errNoLock is returned where file locks are not supported.
var errNoLock = errors.New("file locks are not supported on this platform")
