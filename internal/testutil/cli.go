package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DockerCLI is where the tests expect the official docker CLI.
const DockerCLI = "/usr/local/bin/docker"

// CommandTimeout bounds every CLI command a test runs, so a hang fails the
// test instead of the whole suite.
var CommandTimeout = time.Minute

// Result is what a CLI command did.
type Result struct {
	Cmd      string // the command line, for messages
	Stdout   string
	Stderr   string
	ExitCode int
}

// String describes the result for failure messages.
func (r *Result) String() string {
	return fmt.Sprintf("`%s` exited %d\nstdout: %q\nstderr: %q", r.Cmd, r.ExitCode, r.Stdout, r.Stderr)
}

// Out is the trimmed standard output.
func (r *Result) Out() string { return strings.TrimSpace(r.Stdout) }

// Combined is stdout followed by stderr.
func (r *Result) Combined() string { return r.Stdout + r.Stderr }

// Success fails t unless the command exited 0, and returns r.
func (r *Result) Success(t testing.TB) *Result {
	t.Helper()
	if r.ExitCode != 0 {
		t.Fatalf("want exit 0: %s", r)
	}
	return r
}

// Fails fails t unless the command exited with code and its stderr contains
// every one of msgs.
func (r *Result) Fails(t testing.TB, code int, msgs ...string) *Result {
	t.Helper()
	if r.ExitCode != code {
		t.Errorf("want exit %d: %s", code, r)
		return r
	}
	for _, m := range msgs {
		if !strings.Contains(r.Stderr, m) {
			t.Errorf("want stderr to contain %q: %s", m, r)
		}
	}
	return r
}

// BerthCmd is the berth CLI aimed at the daemon with -H.
func (d *Daemon) BerthCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(d.BinDir, "berth"), append([]string{"-H", d.Host}, args...)...)
	cmd.Env = d.cliEnv()
	return cmd
}

// DockerCmd is the docker CLI aimed at the daemon with -H.
func (d *Daemon) DockerCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(DockerCLI, append([]string{"-H", d.Host}, args...)...)
	cmd.Env = d.cliEnv()
	return cmd
}

// cliEnv is the environment without any host selection, with a private
// docker config directory.
func (d *Daemon) cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "DOCKER_"), strings.HasPrefix(kv, "BERTH_HOST="),
			strings.HasPrefix(kv, "BERTH_TLS_VERIFY="), strings.HasPrefix(kv, "BERTH_CERT_PATH="):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "DOCKER_CONFIG="+filepath.Join(d.Root, "docker-config"), "DOCKER_CLI_HINTS=false")
}

// HasDockerCLI reports whether the official docker CLI is installed.
func HasDockerCLI() bool {
	_, err := os.Stat(DockerCLI)
	return err == nil
}

// RequiresDockerCLI skips t when the docker CLI is absent.
func RequiresDockerCLI(t testing.TB) {
	t.Helper()
	if !HasDockerCLI() {
		t.Skipf("skipping the docker CLI half: %s is not installed", DockerCLI)
	}
}

// Berth runs `berth -H <daemon> args...`.
func (d *Daemon) Berth(t testing.TB, args ...string) *Result {
	t.Helper()
	return Run(t, d.BerthCmd(args...), nil)
}

// BerthStdin runs berth with stdin as its standard input.
func (d *Daemon) BerthStdin(t testing.TB, stdin io.Reader, args ...string) *Result {
	t.Helper()
	return Run(t, d.BerthCmd(args...), stdin)
}

// Docker runs `docker -H <daemon> args...`; it skips t when the docker CLI
// is not installed.
func (d *Daemon) Docker(t testing.TB, args ...string) *Result {
	t.Helper()
	RequiresDockerCLI(t)
	return Run(t, d.DockerCmd(args...), nil)
}

// DockerStdin runs the docker CLI with stdin as its standard input.
func (d *Daemon) DockerStdin(t testing.TB, stdin io.Reader, args ...string) *Result {
	t.Helper()
	RequiresDockerCLI(t)
	return Run(t, d.DockerCmd(args...), stdin)
}

// Run runs cmd to completion within CommandTimeout and returns what it did.
// A command that cannot start or times out fails t.
func Run(t testing.TB, cmd *exec.Cmd, stdin io.Reader) *Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = stdin
	}
	line := strings.Join(append([]string{filepath.Base(cmd.Path)}, cmd.Args[1:]...), " ")
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start `%s`: %v", line, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("`%s` did not finish within %s\nstdout: %q\nstderr: %q", line, CommandTimeout, stdout.String(), stderr.String())
	}
	r := &Result{Cmd: line, Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.ExitCode = ee.ExitCode()
	default:
		t.Fatalf("`%s`: %v", line, err)
	}
	return r
}
