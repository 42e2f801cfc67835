//go:build linux

package integration

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// tasksRunWithin runs cmd and fails t if it has not finished after timeout
// or failed; it returns the trimmed stdout.
func tasksRunWithin(t *testing.T, timeout time.Duration, cmd *exec.Cmd) string {
	t.Helper()
	out, code := tasksExitWithin(t, timeout, cmd)
	if code != 0 {
		t.Fatalf("%v exited %d", cmd.Args, code)
	}
	return out
}

// tasksExitWithin runs cmd, fails t if it has not finished after timeout,
// and returns its trimmed stdout and exit code.
func tasksExitWithin(t *testing.T, timeout time.Duration, cmd *exec.Cmd) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not return within %s; stderr: %s", cmd.Args, timeout, errb.String())
	}
	return strings.TrimSpace(out.String()), cmd.ProcessState.ExitCode()
}

// wait, and run in the foreground, return the exit code of the run that
// ended even when the restart policy brings the container back, like
// docker's.
func TestTasksWaitRestartAlways(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("waitalways")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "--restart", "always", "busybox", "sh", "-c", "sleep 1; exit 3")
		if got := tasksRunWithin(t, 15*time.Second, c.cmd("wait", name)); got != "3" {
			t.Errorf("wait on a --restart always container printed %q, want 3", got)
		}
		waitFor(t, 15*time.Second, "the restart", func() bool {
			return inspect(t, d, name, "{{.RestartCount}}") != "0"
		})

		fg := unique("runalways")
		rmOnCleanup(t, d, fg)
		if _, code := tasksExitWithin(t, 15*time.Second, c.cmd("run", "--name", fg, "--restart", "always", "busybox", "sh", "-c", "exit 3")); code != 3 {
			t.Errorf("run --restart always in the foreground exited %d, want 3", code)
		}
	})
}

// attach with logs=1&stream=0 answers with the container's past output and
// ends, even while the container runs, through the moby client and through
// plain HTTP.
func TestTasksAttachLogsNoStream(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("attachlogs")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "echo to-stdout; echo to-stderr >&2; sleep 300")
		waitFor(t, 10*time.Second, "the output logged", func() bool {
			return strings.Contains(c.run(t, "logs", name).Combined(), "to-stderr")
		})

		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		res, err := d.Client(t).ContainerAttach(ctx, name, client.ContainerAttachOptions{Logs: true, Stdout: true, Stderr: true})
		if err != nil {
			t.Fatalf("attach: %v", err)
		}
		defer res.Close()
		var stdout, stderr bytes.Buffer
		if _, err := stdcopy.StdCopy(&stdout, &stderr, res.Reader); err != nil {
			t.Fatalf("read attach stream: %v", err)
		}
		if stdout.String() != "to-stdout\n" || stderr.String() != "to-stderr\n" {
			t.Errorf("attach logs: stdout %q, stderr %q; want the container's output", stdout.String(), stderr.String())
		}

		out := tasksRunWithin(t, 15*time.Second, exec.Command("curl", "-sS", "--unix-socket", d.Sock, "-X", "POST",
			"http://localhost/containers/"+name+"/attach?logs=1&stream=0&stdout=1"))
		if !strings.Contains(out, "to-stdout") || strings.Contains(out, "to-stderr") {
			t.Errorf("curl attach?logs=1&stream=0&stdout=1: %q, want stdout's line only", out)
		}
	})
}

// rm --link removes a legacy link, not the linked container.
func TestTasksRemoveLink(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		db, web := unique("linkdb"), unique("linkweb")
		rmOnCleanup(t, d, db)
		rmOnCleanup(t, d, web)
		c.ok(t, "run", "-d", "--name", db, "busybox", "sleep", "300")
		c.ok(t, "create", "--name", web, "--link", db+":database", "busybox", "true")
		if links := inspect(t, d, web, "{{.HostConfig.Links}}"); !strings.Contains(links, "database") {
			t.Fatalf("links before rm --link: %s", links)
		}
		c.ok(t, "rm", "--link", "/"+web+"/database")
		if links := inspect(t, d, web, "{{len .HostConfig.Links}}"); links != "0" {
			t.Errorf("links after rm --link: %s, want none", links)
		}
		if st := inspect(t, d, db, "{{.State.Status}}"); st != "running" {
			t.Errorf("the linked container is %q after rm --link, want running", st)
		}
		c.run(t, "rm", "--link", "/"+web+"/database").Fails(t, 1, "No such container")
		c.run(t, "rm", "--link", "/"+web).Fails(t, 1, "cannot remove the default link name")
	})
}
