package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
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
func BuildxCache() string { return buildx.cache() }

// buildx is built with `go install` (its go.mod has no exclude or replace
// directives that would refuse it), stamped with its version: Compose
// refuses an unstamped buildx.
var buildx = &cachedTool{
	name:         "buildx",
	version:      BuildxVersion,
	cacheEnv:     BuildxCacheEnv,
	defaultCache: DefaultBuildxCache,
	versionOut:   " " + BuildxVersion,
	build: func(goBin, dir, tmp string) (string, error) {
		_, err := runGo(goBin, dir, staticGoEnv("GOBIN="+tmp),
			"install", "-ldflags", "-X github.com/docker/buildx/version.Version="+BuildxVersion, BuildxPackage+"@"+BuildxVersion)
		return filepath.Join(tmp, "buildx"), err
	},
}

// BuildxBinary returns the path of buildx BuildxVersion in BuildxCache,
// building it there with `go install` when it is missing or another
// version. Concurrent processes build it once (a lock file serialises them).
// A cold build (module download and compile) takes minutes.
func BuildxBinary() (string, error) { return buildx.binary() }

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
