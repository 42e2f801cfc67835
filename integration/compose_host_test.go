//go:build linux

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

// TestComposeHost checks which daemon `berth compose` reaches: berth's -H,
// else $BERTH_HOST, else the docker client's $DOCKER_HOST (berth-compose
// leaves a user's DOCKER_HOST alone), and that berth-compose installed as
// the docker CLI's compose plugin is `docker compose` against the docker
// CLI's daemon. It is about berth compose and its plugin, so it does not
// run per compose client: the other clients choose their daemon
// themselves.
func TestComposeHost(t *testing.T) {
	d := sharedDaemon(t)
	project := unique("chost")
	dir := composeProject(t, map[string]string{
		"compose.yaml": "services:\n  app:\n    image: busybox:latest\n    command: [\"sleep\", \"3600\"]\n    init: true\n",
	}, false)
	run := func(t *testing.T, cmd *exec.Cmd) *testutil.Result {
		t.Helper()
		return testutil.Run(t, cmd, nil)
	}
	run(t, d.BerthComposeCmd(dir, "-p", project, "up", "-d")).Success(t)
	t.Cleanup(func() { run(t, d.BerthComposeCmd(dir, "-p", project, "down", "-v")) })
	want := project + "-app-1"
	nowhere := "unix://" + filepath.Join(t.TempDir(), "nowhere.sock")

	// berth compose without -H, with env (over an environment without any
	// host selection and a private DOCKER_CONFIG)
	berthCompose := func(env ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(d.BinDir, "berth"), "compose", "-p", project, "ps", "--format", "{{.Name}}")
		cmd.Dir = dir
		cmd.Env = append(withoutEnv(d.ComposeEnv(d.ComposeConfig(false)), "DOCKER_HOST"), env...)
		return cmd
	}
	for _, tc := range []struct {
		name string
		cmd  *exec.Cmd
	}{
		{"-H over BERTH_HOST and DOCKER_HOST", func() *exec.Cmd {
			cmd := d.BerthComposeCmd(dir, "-p", project, "ps", "--format", "{{.Name}}")
			cmd.Env = append(withoutEnv(cmd.Env, "DOCKER_HOST"), "BERTH_HOST="+nowhere, "DOCKER_HOST="+nowhere)
			return cmd
		}()},
		{"BERTH_HOST over DOCKER_HOST", berthCompose("BERTH_HOST="+d.Host, "DOCKER_HOST="+nowhere)},
		{"DOCKER_HOST", berthCompose("DOCKER_HOST=" + d.Host)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(t, tc.cmd).Success(t).Out(); got != want {
				t.Fatalf("ps lists %q, want %q", got, want)
			}
		})
	}
	t.Run("DOCKER_HOST elsewhere", func(t *testing.T) {
		// not berthd's default socket: the user's DOCKER_HOST is where it goes
		r := run(t, berthCompose("DOCKER_HOST="+nowhere))
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, strings.TrimPrefix(nowhere, "unix://")) {
			t.Fatalf("want a failure to reach %s: %s", nowhere, r)
		}
	})

	t.Run("docker compose plugin", func(t *testing.T) {
		testutil.RequiresDockerCLI(t)
		config := t.TempDir()
		plugin := filepath.Join(config, "cli-plugins", "docker-compose")
		if err := os.MkdirAll(filepath.Dir(plugin), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(d.BinDir, "berth-compose"), plugin); err != nil {
			t.Fatal(err)
		}
		docker := func(args ...string) *exec.Cmd {
			cmd := d.DockerCmd(args...)
			cmd.Dir = dir
			cmd.Env = append(withoutEnv(cmd.Env, "DOCKER_CONFIG"), "DOCKER_CONFIG="+config)
			return cmd
		}
		if got := run(t, docker("compose", "version")).Success(t).Out(); !strings.HasPrefix(got, "Docker Compose version v") {
			t.Errorf("docker compose version: %q", got)
		}
		if got := run(t, docker("compose", "-p", project, "ps", "--format", "{{.Name}}")).Success(t).Out(); got != want {
			t.Errorf("docker -H <berthd> compose ps lists %q, want %q", got, want)
		}
	})
}

// withoutEnv returns env without the entries named name.
func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
