package testutil

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// ComposeV5Version is the Docker Compose release the tests build and
// drive berthd with, beside berth compose (built from
// the same SDK) and Debian's docker-compose 1.29.
const ComposeV5Version = "v5.6.0"

// ComposeV5Module is the Go module Docker Compose v5 is built from.
const ComposeV5Module = "github.com/docker/compose/v5"

// ComposeV5CacheEnv names the environment variable that overrides the
// folder the compose v5 binary is built into (DefaultComposeV5Cache
// otherwise).
const ComposeV5CacheEnv = "BERTH_COMPOSE_CACHE"

// DefaultComposeV5Cache is where the compose v5 binary is built when
// BERTH_COMPOSE_CACHE is unset: outside any test's folder, so one build
// serves every run.
const DefaultComposeV5Cache = "/tmp/compose-v5-cache"

// ComposeV5Cache is the folder holding the compose v5 binary.
func ComposeV5Cache() string { return composeV5.cache() }

var composeV5 = &cachedTool{
	name:         "docker-compose",
	version:      ComposeV5Version,
	cacheEnv:     ComposeV5CacheEnv,
	defaultCache: DefaultComposeV5Cache,
	versionOut:   "Docker Compose version " + ComposeV5Version,
	build:        buildComposeV5,
}

// ComposeV5Binary returns the path of the docker-compose binary
// ComposeV5Version in ComposeV5Cache, building it there from the Go module
// proxy when it is missing or another version. Concurrent processes build
// it once (a lock file serialises them). A cold build takes minutes.
func ComposeV5Binary() (string, error) { return composeV5.binary() }

// buildComposeV5 builds Compose's ./cmd stamped with its version, as
// Compose's Makefile does. Inside berth's module, which requires the same
// release for berth-compose, it is built there: the same source, with the
// dependency versions berth-compose is tested with, and the packages that
// `make build` has just compiled (minutes saved on a cold machine).
// Elsewhere it is built in its own module, from its source (its go.mod
// has exclude directives, which `go install module@version` refuses).
func buildComposeV5(goBin, dir, tmp string) (string, error) {
	env := staticGoEnv()
	bin := filepath.Join(tmp, "docker-compose")
	stamp := "-X " + ComposeV5Module + "/internal.Version=" + ComposeV5Version
	if root, ok := moduleRequiring(goBin, ComposeV5Module, ComposeV5Version); ok {
		_, err := runGo(goBin, root, env, "build", "-ldflags", stamp, "-o", bin, ComposeV5Module+"/cmd")
		return bin, err
	}
	out, err := runGo(goBin, dir, env, "mod", "download", "-json", ComposeV5Module+"@"+ComposeV5Version)
	if err != nil {
		return "", err
	}
	src, err := downloadedDir(out)
	if err != nil {
		return "", err
	}
	_, err = runGo(goBin, src, env, "build", "-ldflags", stamp, "-o", bin, "./cmd")
	return bin, err
}

// moduleRequiring returns the root of the main module of the working
// folder when that module requires mod at version.
func moduleRequiring(goBin, mod, version string) (string, bool) {
	out, err := runGo(goBin, "", os.Environ(), "list", "-m", "-f", "{{.Version}}", mod)
	if err != nil || strings.TrimSpace(string(out)) != version {
		return "", false
	}
	gomod, err := runGo(goBin, "", os.Environ(), "env", "GOMOD")
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", false
	}
	return filepath.Dir(strings.TrimSpace(string(gomod))), true
}

// downloadedDir is the source folder in `go mod download -json`'s answer.
func downloadedDir(out []byte) (string, error) {
	var m struct{ Path, Version, Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go mod download -json: %w", err)
	}
	if m.Error != "" {
		return "", fmt.Errorf("go mod download %s@%s: %s", m.Path, m.Version, m.Error)
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: no source folder in its answer", m.Path, m.Version)
	}
	return m.Dir, nil
}

// ComposeConfig is a private DOCKER_CONFIG folder for compose clients,
// without CLI plugins unless withBuildx (then buildx is its docker-buildx
// plugin, so Compose builds through bake).
func (d *Daemon) ComposeConfig(withBuildx bool) string {
	if withBuildx {
		return filepath.Join(d.Root, "compose-config-buildx")
	}
	return filepath.Join(d.Root, "compose-config")
}

// ComposeEnv is the environment a compose client runs with against d: no
// inherited DOCKER_* or BERTH_HOST, DOCKER_HOST set to d, and config as
// DOCKER_CONFIG.
func (d *Daemon) ComposeEnv(config string) []string {
	return setEnv(d.cliEnv(), "DOCKER_HOST="+d.Host, "DOCKER_CONFIG="+config)
}

// BerthComposeCmd is `berth -H <d> compose args...` run in dir.
func (d *Daemon) BerthComposeCmd(dir string, args ...string) *exec.Cmd {
	cmd := d.BerthCmd(append([]string{"compose"}, args...)...)
	cmd.Dir = dir
	cmd.Env = setEnv(cmd.Env, "DOCKER_CONFIG="+d.ComposeConfig(false))
	return cmd
}

// Compose129Cmd is Debian's docker-compose 1.29 run in dir against d; it
// returns an error when docker-compose is not installed.
func (d *Daemon) Compose129Cmd(dir string, args ...string) (*exec.Cmd, error) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = d.ComposeEnv(d.ComposeConfig(false))
	return cmd, nil
}

// ComposeV5Cmd is the compose v5 binary run in dir against d, with buildx
// as a plugin when withBuildx; it returns an error when either cannot be
// built here.
func (d *Daemon) ComposeV5Cmd(dir string, withBuildx bool, args ...string) (*exec.Cmd, error) {
	bin, err := ComposeV5Binary()
	if err != nil {
		return nil, err
	}
	config := d.ComposeConfig(withBuildx)
	if err := os.MkdirAll(config, 0o755); err != nil {
		return nil, err
	}
	if withBuildx {
		bx, err := BuildxBinary()
		if err != nil {
			return nil, err
		}
		if err := InstallBuildxPlugin(config, bx); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = d.ComposeEnv(config)
	return cmd, nil
}

// setEnv returns env with each NAME=value of kvs replacing any entry of
// that name.
func setEnv(env []string, kvs ...string) []string {
	for _, kv := range kvs {
		name, _, _ := strings.Cut(kv, "=")
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		env = append(env, kv)
	}
	return env
}
