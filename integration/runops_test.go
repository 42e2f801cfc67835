//go:build linux

package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/testutil"
)

// TestPauseUnpause: pause freezes the container (its processes are in the
// D/T state of the freezer, ps and inspect say Paused), docker's 409s for
// pausing twice, unpausing a running container, exec and attach into a
// paused one, pausing a stopped one; unpause resumes it.
func TestPauseUnpause(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("pause")
		rmOnCleanup(t, d, name)
		id := c.ok(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "while true; do date +%s%N > /tmp/tick; sleep 0.05; done")

		if got := c.ok(t, "pause", name); got != name {
			t.Errorf("pause printed %q, want the name", got)
		}
		if got := inspect(t, d, name, "{{.State.Status}} {{.State.Paused}} {{.State.Running}}"); got != "paused true true" {
			t.Errorf("inspect after pause: %q", got)
		}
		if got := c.ok(t, "ps", "--filter", "name="+name, "--format", "{{.Status}}"); !regexp.MustCompile(`^Up .* \(Paused\)$`).MatchString(got) {
			t.Errorf("ps status %q, want Up ... (Paused)", got)
		}
		// the freezer really froze it: the loop writes no more
		tick := readTick(t, d, id)
		time.Sleep(300 * time.Millisecond)
		if again := readTick(t, d, id); again != tick {
			t.Errorf("a paused container ran on: %q then %q", tick, again)
		}

		c.run(t, "pause", name).Fails(t, 1, "Error response from daemon: Container "+id+" is already paused")
		c.run(t, "exec", name, "true").Fails(t, 1, "is paused, unpause the container before exec")
		c.run(t, "attach", name).Fails(t, 1, "You cannot attach to a paused container, unpause it first")
		c.run(t, "start", name).Fails(t, 1)

		if got := c.ok(t, "unpause", name); got != name {
			t.Errorf("unpause printed %q", got)
		}
		if got := inspect(t, d, name, "{{.State.Status}} {{.State.Paused}}"); got != "running false" {
			t.Errorf("inspect after unpause: %q", got)
		}
		waitFor(t, 5*time.Second, "the loop to run again", func() bool { return readTick(t, d, id) != tick })
		c.run(t, "unpause", name).Fails(t, 1, "Error response from daemon: Container "+id+" is not paused")

		c.ok(t, "kill", name)
		c.run(t, "pause", name).Fails(t, 1, "Container "+id+" is not running")
		c.run(t, "pause", unique("nope")).Fails(t, 1, "No such container")
	})
}

// readTick reads the file the container's loop writes, through the rootfs
// berthd mounted (an exec would be refused while paused).
func readTick(t *testing.T, d *testutil.Daemon, id string) string {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(d.ExecRoot, "containers", id, "rootfs", "tmp", "tick"))
	return string(data)
}

// apiGet sends a GET to the daemon and returns the response, body unread.
func apiGet(t *testing.T, d *testutil.Daemon, path string) *http.Response {
	t.Helper()
	resp, err := testutil.UnixHTTPClient(d.Sock).Get("http://berthd" + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	return resp
}

// statsSample reads one stats sample of name with query.
func statsSample(t *testing.T, d *testutil.Daemon, name, query string) containertypes.StatsResponse {
	t.Helper()
	resp := apiGet(t, d, "/containers/"+name+"/stats?"+query)
	defer resp.Body.Close()
	var s containertypes.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPausedStopKillRemove: stop, kill and rm -f end a paused container as
// docker does (the signal is delivered once it is thawed).
func TestPausedStopKillRemove(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		stopped, killed, removed := unique("pstop"), unique("pkill"), unique("prm")
		for _, n := range []string{stopped, killed, removed} {
			rmOnCleanup(t, d, n)
			c.ok(t, "run", "-d", "--name", n, "busybox", "sleep", "300")
			c.ok(t, "pause", n)
		}
		// sleep as pid 1 ignores SIGTERM: stop kills it after the grace
		start := time.Now()
		c.ok(t, "stop", "-t", "1", stopped)
		if got := inspect(t, d, stopped, "{{.State.Status}} {{.State.ExitCode}} {{.State.Paused}}"); got != "exited 137 false" {
			t.Errorf("stop of a paused container: %q", got)
		}
		if took := time.Since(start); took > 8*time.Second {
			t.Errorf("stop of a paused container took %s", took)
		}
		c.ok(t, "kill", killed)
		waitFor(t, 5*time.Second, "the killed container to exit", func() bool {
			return inspect(t, d, killed, "{{.State.Status}} {{.State.ExitCode}}") == "exited 137"
		})
		c.ok(t, "rm", "-f", removed)
		c.run(t, "inspect", removed).Fails(t, 1)
	})
}

// TestPausedSurvivesDaemonRestart: a berthd restart keeps a paused
// container paused, and it can be unpaused after.
func TestPausedSurvivesDaemonRestart(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	name := unique("prestart")
	d.Berth(t, "run", "-d", "--name", name, "busybox", "sleep", "300").Success(t)
	d.Berth(t, "pause", name).Success(t)
	d.Restart(t)
	if got := inspect(t, d, name, "{{.State.Status}}"); got != "paused" {
		t.Fatalf("after a restart: %q, want paused", got)
	}
	d.Berth(t, "exec", name, "true").Fails(t, 1, "is paused")
	d.Berth(t, "unpause", name).Success(t)
	d.Berth(t, "exec", name, "true").Success(t)
	d.Berth(t, "rm", "-f", name).Success(t)
}

// TestTop: top lists the container's processes only, with ps's columns
// for the ps options given, and refuses a container that does not run.
func TestTop(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("top")
		rmOnCleanup(t, d, name)
		id := c.ok(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "sleep 301 & sleep 302")
		waitFor(t, 5*time.Second, "both sleeps", func() bool {
			return strings.Count(c.ok(t, "top", name), "sleep 30") == 2
		})
		out := c.ok(t, "top", name)
		lines := strings.Split(out, "\n")
		if !strings.HasPrefix(lines[0], "UID") || !strings.Contains(lines[0], "PID") || !strings.Contains(lines[0], "CMD") {
			t.Errorf("top header %q, want ps -ef's", lines[0])
		}
		// busybox sh execs its last command: the two sleeps are all
		if len(lines) != 3 {
			t.Errorf("top shows %d processes, want the two sleeps:\n%s", len(lines)-1, out)
		}
		if strings.Contains(out, "berthd") || strings.Contains(out, "berth-shim") {
			t.Errorf("top shows host processes:\n%s", out)
		}
		out = c.ok(t, "top", name, "-o", "pid,comm")
		if lines := strings.Split(out, "\n"); strings.Fields(lines[0])[0] != "PID" || len(lines) != 3 {
			t.Errorf("top -o pid,comm:\n%s", out)
		}
		// pause does not hide the processes
		c.ok(t, "pause", name)
		if got := c.ok(t, "top", name); strings.Count(got, "\n") != 2 {
			t.Errorf("top of a paused container:\n%s", got)
		}
		c.ok(t, "unpause", name)
		c.ok(t, "kill", name)
		c.run(t, "top", name).Fails(t, 1, "Container "+id+" is not running")
	})
}

// TestStats: stats --no-stream shows docker's columns with sane figures
// (memory in use below its limit, the limit set by -m, the PIDs), the
// formats, -a and --no-trunc; the API's one-shot sample has no precpu.
func TestStats(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name, stopped := unique("stats"), unique("stats-off")
		rmOnCleanup(t, d, name)
		rmOnCleanup(t, d, stopped)
		id := c.ok(t, "run", "-d", "--name", name, "-m", "64m", "busybox", "sh", "-c", "sleep 300 & sleep 301")
		c.ok(t, "create", "--name", stopped, "busybox", "true")

		out := c.ok(t, "stats", "--no-stream", name)
		lines := strings.Split(out, "\n")
		if len(lines) != 2 || !regexp.MustCompile(`^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE / LIMIT\s+MEM %\s+NET I/O\s+BLOCK I/O\s+PIDS$`).MatchString(lines[0]) {
			t.Fatalf("stats --no-stream:\n%s", out)
		}
		row := regexp.MustCompile(`^(\w{12})\s+(\S+)\s+([\d.]+)%\s+([\d.]+)(\w+) / 64MiB\s+([\d.]+)%\s+(\S+) / (\S+)\s+(\S+) / (\S+)\s+(\d+)$`).FindStringSubmatch(lines[1])
		if row == nil {
			t.Fatalf("stats row %q", lines[1])
		}
		if row[1] != id[:12] || row[2] != name {
			t.Errorf("stats row names %q %q", row[1], row[2])
		}
		if pct, _ := strconv.ParseFloat(row[6], 64); pct <= 0 || pct >= 100 {
			t.Errorf("MEM %% %s", row[6])
		}
		if row[11] != "2" {
			t.Errorf("PIDS %s, want 2 (the two sleeps)", row[11])
		}

		if got := c.ok(t, "stats", "--no-stream", "--no-trunc", "--format", "{{.ID}} {{.Name}} {{.Container}}", name); got != id+" "+name+" "+name {
			t.Errorf("--format with --no-trunc: %q", got)
		}
		var js map[string]string
		if err := json.Unmarshal([]byte(c.ok(t, "stats", "--no-stream", "--format", "json", name)), &js); err != nil || js["Name"] != name || js["PIDs"] != "2" {
			t.Errorf("--format json: %v %v", err, js)
		}
		// without names: the running containers; -a adds the stopped ones
		if out := c.ok(t, "stats", "--no-stream", "--format", "{{.Name}}"); !strings.Contains(out, name) || strings.Contains(out, stopped) {
			t.Errorf("stats of the running containers:\n%s", out)
		}
		all := c.ok(t, "stats", "--no-stream", "-a", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}")
		if !strings.Contains(all, stopped+" 0.00% 0B / 0B 0") {
			t.Errorf("stats -a shows no zero row for the stopped container:\n%s", all)
		}
		c.run(t, "stats", "--no-stream", unique("nope")).Fails(t, 1, "No such container")

		// streamed: the table is redrawn every second
		cmd := c.cmd("stats", "--format", "table {{.Name}}\t{{.PIDs}}", name)
		var buf bytes.Buffer
		cmd.Stdout = &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3500 * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if n := strings.Count(buf.String(), name); n < 2 {
			t.Errorf("streamed stats drew the container %d times in 3.5s:\n%q", n, buf.String())
		}
	})
}

// TestStatsAPI: the JSON a stream and a one-shot sample carry, in docker's
// shape: CPU counters, precpu, memory with the page cache figures, the
// container's eth0, pids and blkio; a streamed sample has the previous one's
// CPU as precpu.
func TestStatsAPI(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	name := unique("statsapi")
	rmOnCleanup(t, d, name)
	d.Berth(t, "run", "-d", "--name", name, "busybox", "sh", "-c", "dd if=/dev/zero of=/tmp/f bs=1M count=8; while true; do :; done").Success(t)
	s := statsSample(t, d, name, "stream=false")
	if s.Read.IsZero() || s.PreRead.IsZero() || !s.Read.After(s.PreRead) {
		t.Errorf("read %v preread %v", s.Read, s.PreRead)
	}
	if s.CPUStats.CPUUsage.TotalUsage <= s.PreCPUStats.CPUUsage.TotalUsage || s.CPUStats.SystemUsage <= s.PreCPUStats.SystemUsage || s.CPUStats.OnlineCPUs == 0 {
		t.Errorf("cpu %+v precpu %+v", s.CPUStats, s.PreCPUStats)
	}
	cpu := float64(s.CPUStats.CPUUsage.TotalUsage-s.PreCPUStats.CPUUsage.TotalUsage) / float64(s.CPUStats.SystemUsage-s.PreCPUStats.SystemUsage) * float64(s.CPUStats.OnlineCPUs) * 100
	if cpu < 5 || cpu > 105 {
		t.Errorf("a busy loop shows %.1f%% CPU", cpu)
	}
	if s.MemoryStats.Usage == 0 || s.MemoryStats.Limit == 0 || s.MemoryStats.Stats == nil {
		t.Errorf("memory %+v", s.MemoryStats)
	}
	if _, v1 := s.MemoryStats.Stats["total_inactive_file"]; !v1 {
		if _, v2 := s.MemoryStats.Stats["inactive_file"]; !v2 {
			t.Errorf("memory stats lack the inactive file cache: %v", s.MemoryStats.Stats)
		}
	}
	if _, ok := s.Networks["eth0"]; !ok {
		t.Errorf("networks %v, want eth0", s.Networks)
	}
	if s.PidsStats.Current == 0 || s.ID == "" || s.Name != "/"+name {
		t.Errorf("pids %+v id %q name %q", s.PidsStats, s.ID, s.Name)
	}

	s = statsSample(t, d, name, "stream=false&one-shot=true")
	if !s.PreRead.IsZero() || s.PreCPUStats.CPUUsage.TotalUsage != 0 {
		t.Errorf("one-shot carries a precpu: %+v", s.PreCPUStats)
	}

	resp := apiGet(t, d, "/containers/"+name+"/stats")
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var first, second containertypes.StatsResponse
	if err := dec.Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := dec.Decode(&second); err != nil {
		t.Fatal(err)
	}
	if second.PreCPUStats.CPUUsage.TotalUsage != first.CPUStats.CPUUsage.TotalUsage || second.Read.Sub(first.Read) < 500*time.Millisecond {
		t.Errorf("stream: the second sample's precpu is not the first's")
	}
}

// TestUpdate: update changes the limits of a running container (the cgroup
// says so), persists them (inspect), changes the restart policy, and
// refuses what docker refuses.
func TestUpdate(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("update")
		rmOnCleanup(t, d, name)
		id := c.ok(t, "run", "-d", "--name", name, "-m", "32m", "busybox", "sleep", "300")
		if got := c.ok(t, "update", "--memory", "48m", "--memory-swap", "96m", "--pids-limit", "50", "--cpus", "0.5", "--cpu-shares", "512", "--restart", "on-failure:3", name); got != name {
			t.Errorf("update printed %q, want the name", got)
		}
		if got := inspect(t, d, name, "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"); got != "50331648 100663296 50 500000000 512 on-failure:3" {
			t.Errorf("inspect after update: %q", got)
		}
		// the kernel has the new limits
		st := statsSample(t, d, name, "stream=false&one-shot=true")
		if st.MemoryStats.Limit != 48<<20 || st.PidsStats.Limit != 50 {
			t.Errorf("cgroup limits after update: memory %d pids %d", st.MemoryStats.Limit, st.PidsStats.Limit)
		}
		if got := c.ok(t, "exec", name, "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); got != "50000" {
			t.Logf("cpu quota inside (v1 layout): %q", got)
		}

		c.run(t, "update", "--memory", "200m", name).Fails(t, 1, "Cannot update container "+id+": Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
		c.run(t, "update", "--memory", "1m", "--memory-swap", "2m", name).Fails(t, 1, "Minimum memory limit allowed is 6MB")
		c.run(t, "update", "--cpu-period", "50000", name).Fails(t, 1, "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
		c.run(t, "update", name).Fails(t, 1, "you must provide one or more flags when using this command")
		c.run(t, "update", "--restart", "always", unique("nope")).Fails(t, 1, "No such container")

		// a stopped container takes the update to its next start
		c.ok(t, "stop", "-t", "0", name)
		c.ok(t, "update", "--pids-limit", "70", name)
		c.ok(t, "start", name)
		st = statsSample(t, d, name, "stream=false&one-shot=true")
		if st.PidsStats.Limit != 70 {
			t.Errorf("pids limit after a stopped update and start: %d", st.PidsStats.Limit)
		}
	})
}
