//go:build linux

package integration

import (
	"bufio"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestLogs(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("logs")
		// stdout and stderr are separate pipes: pauses keep their order in the log
		c.ok(t, "run", "--name", name, "busybox", "sh", "-c",
			"echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; sleep 0.1; echo err2 >&2; sleep 0.1; echo out3")
		rmOnCleanup(t, d, name)

		r := c.run(t, "logs", name).Success(t)
		if r.Stdout != "out1\nout2\nout3\n" {
			t.Errorf("logs stdout = %q", r.Stdout)
		}
		if r.Stderr != "err1\nerr2\n" {
			t.Errorf("logs stderr = %q", r.Stderr)
		}

		r = c.run(t, "logs", "--tail", "2", name).Success(t)
		if r.Stdout != "out3\n" || r.Stderr != "err2\n" {
			t.Errorf("--tail 2 = stdout %q stderr %q, want out3 and err2", r.Stdout, r.Stderr)
		}
		if r := c.run(t, "logs", "--tail", "0", name).Success(t); r.Stdout+r.Stderr != "" {
			t.Errorf("--tail 0 printed %q", r.Stdout+r.Stderr)
		}

		stamped := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z out1$`)
		if first := lines(c.ok(t, "logs", "-t", name))[0]; !stamped.MatchString(first) {
			t.Errorf("logs -t first line = %q, want an RFC 3339 timestamp then out1", first)
		}

		if r := c.run(t, "logs", "--since", "10m", name).Success(t); r.Stdout != "out1\nout2\nout3\n" {
			t.Errorf("--since 10m stdout = %q", r.Stdout)
		}
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if r := c.run(t, "logs", "--since", future, name).Success(t); r.Stdout+r.Stderr != "" {
			t.Errorf("--since %s printed %q, want nothing", future, r.Stdout+r.Stderr)
		}
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		if r := c.run(t, "logs", "--until", past, name).Success(t); r.Stdout+r.Stderr != "" {
			t.Errorf("--until %s printed %q, want nothing", past, r.Stdout+r.Stderr)
		}

		c.run(t, "logs", unique("nosuch")).Fails(t, 1, "No such container")
	})
}

func TestLogsFollow(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("follow")
		c.ok(t, "run", "-d", "--name", name, "busybox", "sh", "-c",
			`trap "exit 0" TERM; i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.2; done`)
		rmOnCleanup(t, d, name)

		cmd := c.cmd("logs", "-f", name)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		seen := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				seen <- sc.Text()
			}
			close(seen)
		}()
		// lines arrive as the container writes them
		deadline := time.After(20 * time.Second)
		for want := 0; want <= 5; {
			select {
			case l, ok := <-seen:
				if !ok {
					t.Fatalf("logs -f ended before tick5 (saw up to tick%d)", want-1)
				}
				if l == "tick"+strconv.Itoa(want) {
					want++
				}
			case <-deadline:
				t.Fatalf("logs -f: tick%d did not arrive within 20s", want)
			}
		}
		// logs -f ends when the container stops
		c.ok(t, "stop", name)
		done := make(chan error, 1)
		go func() {
			for range seen {
			}
			done <- cmd.Wait()
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("logs -f exited with %v after the container stopped", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("logs -f still running 15s after the container stopped")
		}
	})
}
