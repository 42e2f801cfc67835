package testutil

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// ComposeV5Version is the Docker Compose release the tests build from its
// module source and drive berthd with, beside berth compose (built from
// the same SDK) and Debian's docker-compose 1.29.
const ComposeV5Version = "v5.6.0"

// ComposeV5Binary returns the path of the docker-compose binary
// ComposeV5Version, built once from the Go module proxy into a cache
// folder (go mod download, then go build ./cmd in the module's source).
// TODO(compose harness): build it; until then it reports an error.
func ComposeV5Binary() (string, error) {
	return "", errors.New("the compose v5 binary is not built yet")
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
