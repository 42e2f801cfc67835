//go:build linux

package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// logFilesSize is the size of a json-file log and its rotated files.
func logFilesSize(t *testing.T, logPath string) (total int64, names []string) {
	t.Helper()
	matches, _ := filepath.Glob(logPath + "*")
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil {
			total += st.Size()
			names = append(names, filepath.Base(m))
		}
	}
	return total, names
}

// checkSequence checks that the numbered lines ("n<i>") of out run from
// some first to last without a gap or a repeat, and returns how many there are.
func checkSequence(t *testing.T, out string, last int) int {
	t.Helper()
	prev := 0
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "n") {
			if prev > 0 {
				t.Fatalf("non-numbered line %q after n%d", l, prev)
			}
			continue
		}
		i, err := strconv.Atoi(l[1:])
		if err != nil {
			t.Fatalf("bad line %q", l)
		}
		if prev > 0 && i != prev+1 {
			t.Fatalf("n%d follows n%d: lines lost or repeated", i, prev)
		}
		if prev == 0 {
			prev = i - 1
		}
		prev = i
	}
	if prev != last {
		t.Fatalf("last numbered line n%d, want n%d", prev, last)
	}
	return prev
}

// TestLogsRotationBounds: a container writing 100 MB of logs keeps its
// json-file log within max-size x max-file (measured while it writes and
// after), the rotated files are docker's <id>-json.log.N(.gz), and `logs`
// reads across the rotated and compressed files in order.
func TestLogsRotationBounds(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	// Written once (100 MB is a lot for a shared machine), read with both CLIs.
	name := unique("rot")
	rmOnCleanup(t, d, name)
	const maxSize, maxFile = 10_000_000, 3 // docker's 10m is decimal
	line := strings.Repeat("0123456789", 10)
	d.Docker(t, "run", "-d", "--name", name, "--log-opt", "max-size=10m", "--log-opt", "max-file=3", "--log-opt", "compress=true",
		"busybox", "sh", "-c", "yes "+line+" | head -c 100000000; awk 'BEGIN { for (i = 1; i <= 200000; i++) print \"n\" i }'").Success(t)
	logPath := inspect(t, d, name, "{{.LogPath}}")
	var peak int64
	waitFor(t, 4*time.Minute, "the container to write 100 MB", func() bool {
		size, _ := logFilesSize(t, logPath)
		peak = max(peak, size)
		return inspect(t, d, name, "{{.State.Status}}") == "exited"
	})
	id := filepath.Base(filepath.Dir(logPath))
	want := []string{id + "-json.log", id + "-json.log.1.gz", id + "-json.log.2.gz"}
	var names []string
	waitFor(t, 30*time.Second, "the last compression", func() bool {
		var size int64
		size, names = logFilesSize(t, logPath)
		peak = max(peak, size)
		return strings.Join(names, " ") == strings.Join(want, " ")
	})
	t.Logf("log files peaked at %d bytes (bound %d)", peak, maxSize*maxFile)
	if peak > maxSize*maxFile {
		t.Errorf("log files reached %d bytes, over max-size x max-file = %d", peak, maxSize*maxFile)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		// 200000 numbered lines are ~16 MB of json-file: they span the
		// current file and compressed ones
		r := c.run(t, "logs", name).Success(t)
		if n := checkSequence(t, r.Stdout, 200000); n != 200000 {
			t.Errorf("logs: %d numbered lines", n)
		}
		if !strings.HasPrefix(r.Stdout, line+"\n") && !strings.HasPrefix(r.Stdout, "n") {
			t.Errorf("logs starts with %q, want whole lines", r.Stdout[:min(len(r.Stdout), 120)])
		}
		if got := lines(c.ok(t, "logs", "--tail", "3", name)); strings.Join(got, " ") != "n199998 n199999 n200000" {
			t.Errorf("--tail 3 = %v", got)
		}
		// a tail reaching into the compressed files
		if got := lines(c.ok(t, "logs", "--tail", "150000", name)); len(got) != 150000 || got[0] != "n50001" {
			t.Errorf("--tail 150000: %d lines from %q", len(got), got[0])
		}
		stamped := c.ok(t, "logs", "-t", "--tail", "1", name)
		ts, rest, _ := strings.Cut(stamped, " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || rest != "n200000" {
			t.Fatalf("logs -t --tail 1 = %q", stamped)
		}
		// --since the last line's time: the last lines only; --until before all: nothing
		since := c.ok(t, "logs", "--since", at.Format(time.RFC3339Nano), name)
		if !strings.HasSuffix(since, "n200000") || strings.Contains(since, line) {
			t.Errorf("--since the last entry's time: %d bytes, ending %q", len(since), since[max(0, len(since)-20):])
		}
		if until := c.ok(t, "logs", "--until", at.Add(-time.Hour).Format(time.RFC3339Nano), name); until != "" {
			t.Errorf("--until an hour before: %d bytes", len(until))
		}
	})
}

// TestLogsFollowRotation: `logs -f` goes on through rotations (compressed
// ones included) without losing or repeating a line, and ends with the
// container.
func TestLogsFollowRotation(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("frot")
		rmOnCleanup(t, d, name)
		// 3000 lines of ~75 bytes of json-file in 10 kB files: ~25 rotations
		c.ok(t, "run", "-d", "--name", name, "--log-opt", "max-size=10k", "--log-opt", "max-file=5", "--log-opt", "compress=true",
			"busybox", "sh", "-c", `i=1; while [ $i -le 3000 ]; do echo n$i; if [ $((i % 20)) = 0 ]; then sleep 0.05; fi; i=$((i+1)); done`)
		cmd := c.cmd("logs", "-f", name)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("logs -f: %v", err)
			}
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatal("logs -f did not end with the container")
		}
		if got := strings.Count(out.String(), "\n"); got != 3000 {
			t.Errorf("logs -f printed %d lines, want 3000", got)
		}
		checkSequence(t, out.String(), 3000)
		if !strings.HasPrefix(out.String(), "n1\n") {
			t.Errorf("logs -f starts with %q", out.String()[:min(10, out.Len())])
		}
		logPath := inspect(t, d, name, "{{.LogPath}}")
		waitFor(t, 30*time.Second, "the current log and 4 compressed ones", func() bool {
			_, names := logFilesSize(t, logPath)
			gz, _ := filepath.Glob(logPath + ".[0-9].gz")
			return len(names) == 5 && len(gz) == 4
		})
	})
}

// TestLogsDefaultRotation: without --log-opt a container gets berth's
// rotation defaults, shown in inspect; its own options override them one
// by one; info shows the daemon's driver.
func TestLogsDefaultRotation(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("logdef")
		rmOnCleanup(t, d, name)
		c.ok(t, "create", "--name", name, "busybox", "true")
		if got := c.ok(t, "inspect", "-f", "{{json .HostConfig.LogConfig}}", name); got != `{"Type":"json-file","Config":{"max-file":"5","max-size":"20m"}}` {
			t.Errorf("default LogConfig = %s", got)
		}
		own := unique("logown")
		rmOnCleanup(t, d, own)
		c.ok(t, "create", "--name", own, "--log-opt", "max-size=1m", "busybox", "true")
		if got := c.ok(t, "inspect", "-f", "{{json .HostConfig.LogConfig}}", own); got != `{"Type":"json-file","Config":{"max-file":"5","max-size":"1m"}}` {
			t.Errorf("--log-opt max-size=1m: LogConfig = %s", got)
		}
		if got := c.ok(t, "info", "-f", "{{.LoggingDriver}}"); got != "json-file" {
			t.Errorf("info LoggingDriver = %q", got)
		}
		// docker's option checks (docker create exits 1 on a daemon error)
		c.run(t, "create", "--log-opt", "max-size=0", "busybox", "true").Fails(t, 1, "max-size must be a positive number")
		c.run(t, "create", "--log-opt", "max-file=0", "busybox", "true").Fails(t, 1, "max-file cannot be less than 1")
		c.run(t, "create", "--log-opt", "max-file=1", "--log-opt", "compress=true", "busybox", "true").Fails(t, 1,
			"compress cannot be true when max-file is less than 2 or max-size is not set")
		c.run(t, "create", "--log-opt", "nope=1", "busybox", "true").Fails(t, 1, "unknown log opt 'nope' for json-file log driver")
		c.run(t, "create", "--log-driver", "syslog", "busybox", "true").Fails(t, 1, `log driver "syslog" is not supported by berth yet`)
		c.run(t, "create", "--log-driver", "nope", "busybox", "true").Fails(t, 1, "logger: no log driver named 'nope' is registered")
	})
}

// TestLogsDrivers: none keeps no log (logs fails with docker's message);
// local keeps a compact, rotated log that is not json-file, and logs reads it.
func TestLogsDrivers(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		none := unique("lognone")
		rmOnCleanup(t, d, none)
		// attached output does not go through the log
		if got := c.ok(t, "run", "--name", none, "--log-driver", "none", "busybox", "echo", "hi"); got != "hi" {
			t.Errorf("run --log-driver none printed %q", got)
		}
		c.run(t, "logs", none).Fails(t, 1, "configured logging driver does not support reading")
		if got := inspect(t, d, none, "{{.HostConfig.LogConfig.Type}} [{{.LogPath}}]"); got != "none []" {
			t.Errorf("none: inspect %q", got)
		}

		local := unique("loglocal")
		rmOnCleanup(t, d, local)
		c.ok(t, "run", "--name", local, "--log-driver", "local", "--log-opt", "max-size=100k",
			"busybox", "sh", "-c", `awk 'BEGIN { for (i = 1; i <= 30000; i++) print "n" i }'; sleep 0.3; printf 'tab\there \\ back\n' >&2`)
		if got := inspect(t, d, local, "{{json .HostConfig.LogConfig}} [{{.LogPath}}]"); got != `{"Type":"local","Config":{"max-size":"100k"}} []` {
			t.Errorf("local: inspect %s", got)
		}
		r := c.run(t, "logs", local).Success(t)
		if r.Stderr != "tab\there \\ back\n" {
			t.Errorf("local stderr = %q", r.Stderr)
		}
		checkSequence(t, r.Stdout, 30000)
		if got := c.run(t, "logs", "--tail", "2", "--details", local).Success(t).Stdout; got != " n30000\n" {
			t.Errorf("local --tail 2 --details stdout = %q", got)
		}
		id := inspect(t, d, local, "{{.Id}}")
		dir := filepath.Join(d.DataRoot, "containers", id, "local-logs")
		cur, err := os.ReadFile(filepath.Join(dir, "container.log"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(cur, []byte("{")) || len(cur) > 100*1024 {
			t.Errorf("local log: %d bytes starting %q", len(cur), cur[:min(40, len(cur))])
		}
		waitFor(t, 30*time.Second, "4 compressed rotated files (max-file 5, compress by default)", func() bool {
			rotated, _ := filepath.Glob(filepath.Join(dir, "container.log.[0-9].gz"))
			return len(rotated) == 4
		})
	})
}

// TestLogsDetails: --details prints the attributes that --log-opt labels=
// and env= select before each line, as docker does; json-file keeps them
// as each entry's "attrs".
func TestLogsDetails(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("details")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "--name", name, "--label", "app=web shop", "--label", "tier=x", "-e", "REGION=eu",
			"--log-opt", "labels=app", "--log-opt", "env=REGION,NOPE", "busybox", "echo", "hi")
		if got := c.ok(t, "logs", "--details", name); got != "REGION=eu,app=web+shop hi" {
			t.Errorf("logs --details = %q", got)
		}
		if got := c.ok(t, "logs", name); got != "hi" {
			t.Errorf("logs = %q", got)
		}
		data, err := os.ReadFile(inspect(t, d, name, "{{.LogPath}}"))
		if err != nil || !strings.Contains(string(data), `"attrs":{"REGION":"eu","app":"web shop"}`) {
			t.Errorf("json-file entry %s (%v), want docker's attrs", data, err)
		}
	})
}

// TestLogsDaemonConfig: daemon.json's log-driver and log-opts are the
// default of containers created without theirs, and info shows the driver.
func TestLogsDaemonConfig(t *testing.T) {
	t.Parallel()
	d := testutil.StartDaemon(t, testutil.WithConfig(`{"log-driver": "local", "log-opts": {"max-size": "1m", "max-file": "2"}}`))
	d.LoadBusybox(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if got := c.ok(t, "info", "-f", "{{.LoggingDriver}}"); got != "local" {
			t.Errorf("info LoggingDriver = %q", got)
		}
		name := unique("dlog")
		c.ok(t, "run", "--name", name, "busybox", "echo", "from-local")
		if got := c.ok(t, "inspect", "-f", "{{json .HostConfig.LogConfig}}", name); got != `{"Type":"local","Config":{"max-file":"2","max-size":"1m"}}` {
			t.Errorf("LogConfig = %s", got)
		}
		if got := c.ok(t, "logs", name); got != "from-local" {
			t.Errorf("logs = %q", got)
		}
		other := unique("dlogjson")
		c.ok(t, "run", "--name", other, "--log-driver", "json-file", "busybox", "echo", "x")
		if got := c.ok(t, "inspect", "-f", "{{json .HostConfig.LogConfig}}", other); got != `{"Type":"json-file","Config":{}}` {
			t.Errorf("json-file on a local daemon: LogConfig = %s (the daemon's opts are local's)", got)
		}
	})
	// a bad daemon-wide option stops berthd with docker's message
	bad, err := testutil.NewDaemon(testutil.WithConfig(`{"log-opts": {"max-size": "0"}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Start(); err == nil {
		t.Fatal("berthd started with log-opts max-size=0")
	}
	if !strings.Contains(bad.Log(), "max-size must be a positive number") {
		t.Errorf("berthd log: %s", bad.LogTail(5))
	}
}
