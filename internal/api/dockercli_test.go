package api

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

const dockerCLI = "/usr/local/bin/docker"

// runDocker runs the real docker CLI against env's socket.
func runDocker(t *testing.T, env *testEnv, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(testCtx(t), dockerCLI, append([]string{"-H", "unix://" + env.sock}, args...)...)
	cfg := t.TempDir()
	cmd.Env = []string{"HOME=" + cfg, "DOCKER_CONFIG=" + cfg, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestDockerCLI proves the official docker CLI negotiates with the server
// and reads its answers.
func TestDockerCLI(t *testing.T) {
	if _, err := os.Stat(dockerCLI); err != nil {
		t.Skipf("docker CLI not installed: %v", err)
	}
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "clitest", "busybox", []string{"sleep"}, false)
	if _, err := env.client.ContainerStart(testCtx(t), "clitest", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}

	out, err := runDocker(t, env, "version")
	if err != nil {
		t.Fatalf("docker version: %v\n%s", err, out)
	}
	for _, want := range []string{"Server: Berth Engine", "API version:      1.56 (minimum version 1.24)", "0.1.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("docker version output lacks %q:\n%s", want, out)
		}
	}

	out, err = runDocker(t, env, "ps")
	if err != nil {
		t.Fatalf("docker ps: %v\n%s", err, out)
	}
	if !strings.Contains(out, "clitest") || !strings.Contains(out, "busybox") {
		t.Errorf("docker ps output:\n%s", out)
	}

	out, err = runDocker(t, env, "inspect", "--format", "{{.State.Status}}", "clitest")
	if err != nil || strings.TrimSpace(out) != "running" {
		t.Errorf("docker inspect: %v\n%s", err, out)
	}

	out, err = runDocker(t, env, "rm", "clitest")
	if err == nil || !strings.Contains(out, "Error response from daemon: cannot remove container \"/clitest\": container is running") {
		t.Errorf("docker rm of a running container: %v\n%s", err, out)
	}

	out, err = runDocker(t, env, "stop", "clitest")
	if err != nil || strings.TrimSpace(out) != "clitest" {
		t.Errorf("docker stop: %v\n%s", err, out)
	}
	out, err = runDocker(t, env, "stop", "clitest") // 304
	if err != nil || strings.TrimSpace(out) != "clitest" {
		t.Errorf("docker stop of a stopped container: %v\n%s", err, out)
	}
}

// TestDockerCLIRun drives the CLI's run flow: create, attach (hijacked),
// wait (registered before start), start, output, exit code.
func TestDockerCLIRun(t *testing.T) {
	if _, err := os.Stat(dockerCLI); err != nil {
		t.Skipf("docker CLI not installed: %v", err)
	}
	env := newTestEnv(t)
	env.fake.addImage("busybox")

	out, err := runDocker(t, env, "run", "--name", "r1", "busybox", "echo", "hello", "from", "run")
	if err != nil || out != "hello from run\n" {
		t.Errorf("docker run echo: %v\n%q", err, out)
	}
	out, err = runDocker(t, env, "run", "busybox", "fail", "3")
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 || out != "failing with 3\n" {
		t.Errorf("docker run fail 3: %v\n%q", err, out)
	}
	out, err = runDocker(t, env, "logs", "r1")
	if err != nil || out != "hello from run\n" {
		t.Errorf("docker logs: %v\n%q", err, out)
	}
	out, err = runDocker(t, env, "run", "nope")
	// The CLI pulls what it cannot find; the fake registry has no "nope".
	if err == nil || !strings.Contains(out, "Unable to find image 'nope:latest' locally") || !strings.Contains(out, "Error response from daemon: pull access denied for") {
		t.Errorf("docker run of a missing image: %v\n%s", err, out)
	}
}
