//go:build linux

package integration

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/oci"
)

// cgroupFiles are the files, as a container sees its own cgroups, that hold
// each limit on this host's layout (v1 and hybrid: the v1 controllers; v2:
// the unified hierarchy), with the value TestLimitsApplied's flags give them.
func cgroupFiles(t *testing.T) map[string]string {
	t.Helper()
	c := oci.DetectHost().Cgroups
	switch c.Mode {
	case oci.CgroupV1, oci.CgroupHybrid:
		return map[string]string{
			"memory/memory.limit_in_bytes":       "33554432",
			"memory/memory.soft_limit_in_bytes":  "16777216",
			"memory/memory.memsw.limit_in_bytes": "67108864",
			"cpu/cpu.cfs_quota_us":               "50000",
			"cpu/cpu.cfs_period_us":              "100000",
			"cpu/cpu.shares":                     "512",
			"cpuset/cpuset.cpus":                 "0",
			"pids/pids.max":                      "50",
		}
	case oci.CgroupV2:
		return map[string]string{
			"memory.max":      "33554432",
			"memory.low":      "16777216",
			"memory.swap.max": "33554432", // memory+swap 64m less memory 32m
			"cpu.max":         "50000 100000",
			"cpu.weight":      "20", // runc's conversion of 512 shares
			"cpuset.cpus":     "0",
			"pids.max":        "50",
		}
	}
	t.Skipf("unknown cgroup layout: %+v", c)
	return nil
}

// TestLimitsApplied runs a container with every resource flag and reads
// each limit back from the cgroup the kernel enforces, and from inspect.
func TestLimitsApplied(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	files := cgroupFiles(t)
	host := oci.DetectHost().Cgroups
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("limits")
		rmOnCleanup(t, d, name)
		var script strings.Builder
		for f := range files {
			fmt.Fprintf(&script, "echo %s=$(cat /sys/fs/cgroup/%s);", f, f)
		}
		script.WriteString("echo nofile=$(ulimit -n):$(ulimit -Hn);")
		script.WriteString("cat /sys/fs/cgroup/blkio/blkio.bfq.weight /sys/fs/cgroup/blkio/blkio.weight /sys/fs/cgroup/io.bfq.weight /sys/fs/cgroup/io.weight 2>/dev/null | sed 's/^/blkio=/';")
		script.WriteString("grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null | sed 's/ /=/'")
		res := c.run(t, "run", "--name", name, "-m", "32m", "--memory-swap", "64m", "--memory-reservation", "16m",
			"--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0", "--pids-limit", "50",
			"--ulimit", "nofile=100:200", "--oom-kill-disable", "--blkio-weight", "300",
			"busybox", "sh", "-c", script.String()).Success(t)
		out := res.Out()
		// a weight the daemon's runtime cannot write (crun before 1.8.2 on
		// a BFQ-only v1 host) is discarded with docker's warning
		if strings.Contains(res.Combined(), "Weight discarded") {
			host.BlkioWeight = false
		}
		got := map[string]string{}
		for _, l := range lines(out) {
			k, v, _ := strings.Cut(l, "=")
			got[k] = v
		}
		for f, want := range files {
			if got[f] != want {
				t.Errorf("%s = %q, want %q (output:\n%s)", f, got[f], want, out)
			}
		}
		if got["nofile"] != "100:200" {
			t.Errorf("ulimit nofile = %q, want 100:200", got["nofile"])
		}
		if host.BlkioWeight && got["blkio"] != "300" && got["blkio"] != "default 300" {
			t.Errorf("blkio weight = %q, want 300", got["blkio"])
		}
		if host.OomKillDisable && got["oom_kill_disable"] != "1" {
			t.Errorf("oom_kill_disable = %q, want 1", got["oom_kill_disable"])
		}
		want := "33554432 67108864 16777216 500000000 512 0 50 300 true [{\"Hard\":200,\"Name\":\"nofile\",\"Soft\":100}]"
		if !host.BlkioWeight {
			want = strings.Replace(want, " 300 ", " 0 ", 1)
		}
		if !host.OomKillDisable {
			want = strings.Replace(want, " true ", " <nil> ", 1)
		}
		if got := inspect(t, d, name, "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.MemoryReservation}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.BlkioWeight}} {{.HostConfig.OomKillDisable}} {{json .HostConfig.Ulimits}}"); got != want {
			t.Errorf("inspect = %q, want %q", got, want)
		}
	})
}

// TestLimitsDefaults checks what docker stores for a container given only
// -m: twice the memory as memory+swap, a 64 MB /dev/shm, a private IPC
// namespace, the masked and read-only paths.
func TestLimitsDefaults(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	name := unique("limdef")
	rmOnCleanup(t, d, name)
	d.Berth(t, "create", "--name", name, "-m", "16m", "busybox", "true").Success(t)
	want := "16777216 33554432 67108864 private"
	if !oci.DetectHost().Cgroups.SwapLimit {
		want = "16777216 -1 67108864 private"
	}
	if got := inspect(t, d, name, "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.ShmSize}} {{.HostConfig.IpcMode}}"); got != want {
		t.Errorf("inspect = %q, want %q", got, want)
	}
	// docker stores the masked and read-only paths it applies
	if got := inspect(t, d, name, "{{len .HostConfig.MaskedPaths}} {{index .HostConfig.ReadonlyPaths 3}}"); got != "12 /proc/sys" {
		t.Errorf("masked and read-only paths: %q", got)
	}
}

// TestLimitsOOMKilled runs a process that allocates past --memory: the
// kernel kills it, the container exits 137 and inspect says OOMKilled.
func TestLimitsOOMKilled(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("oom")
		rmOnCleanup(t, d, name)
		c.run(t, "run", "--name", name, "-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c", "x=a; while true; do x=$x$x; done").Fails(t, 137)
		if got := inspect(t, d, name, "{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}"); got != "true 137 exited" {
			t.Errorf("state = %q, want %q", got, "true 137 exited")
		}
	})
}

// TestLimitsPids checks that --pids-limit is enforced: forks past it fail.
func TestLimitsPids(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		res := c.run(t, "run", "--rm", "--pids-limit", "8", "busybox", "sh", "-c",
			"n=0; for i in $(seq 20); do sleep 5 & n=$((n+1)); done; echo started $n")
		if res.ExitCode == 0 || !strings.Contains(res.Stderr, "can't fork") {
			t.Errorf("20 forks under --pids-limit 8 did not fail: %s", res)
		}
		// without the limit the same forks succeed: the failure above is the limit's
		c.run(t, "run", "--rm", "busybox", "sh", "-c", "for i in $(seq 20); do sleep 1 & done; wait").Success(t)
	})
}

// TestLimitsRefused checks docker's messages for impossible limits, and the
// warning for a limit that makes no sense alone.
func TestLimitsRefused(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	ncpu := runtime.NumCPU()
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"-m", "4m"}, "Minimum memory limit allowed is 6MB"},
		{[]string{"-m", "10m", "--memory-swap", "5m"}, "Minimum memoryswap limit should be larger than memory limit, see usage"},
		{[]string{"--memory-swap", "20m"}, "You should always set the Memory limit when using Memoryswap limit, see usage"},
		{[]string{"--memory-reservation", "4m"}, "Minimum memory reservation allowed is 6MB"},
		{[]string{"-m", "10m", "--memory-reservation", "20m"}, "Minimum memory limit can not be less than memory reservation limit, see usage"},
		{[]string{"--cpus", fmt.Sprint(ncpu + 1)}, fmt.Sprintf("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", ncpu, ncpu)},
		{[]string{"--cpuset-cpus", "99"}, "Requested CPUs are not available - requested 99, available: "},
		{[]string{"--cpuset-cpus", "1-a"}, "Invalid value 1-a for cpuset cpus: invalid format: 1-a"},
		{[]string{"--blkio-weight", "5"}, "Range of blkio weight is from 10 to 1000"},
		{[]string{"--cpu-period", "100"}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
		{[]string{"--cpus", "1", "--cpu-quota", "50000"}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
		{[]string{"--memory-swappiness", "200"}, "Valid memory swappiness range is 0-100"},
		{[]string{"--ulimit", "foo=1"}, "invalid ulimit type: foo"},
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, tc := range cases {
			args := append(append([]string{"run", "--rm"}, tc.args...), "busybox", "true")
			res := c.run(t, args...)
			// docker's order: a weight the host (or the daemon's runtime:
			// crun before 1.8.2 on BFQ) cannot apply is discarded, with a
			// warning, before its range is checked
			if tc.args[0] == "--blkio-weight" && res.ExitCode == 0 && strings.Contains(res.Stderr, "Weight discarded") {
				continue
			}
			res.Fails(t, 125, tc.msg)
		}
		// a warning, not an error
		res := c.run(t, "run", "--rm", "--oom-kill-disable", "busybox", "true").Success(t)
		if oci.DetectHost().Cgroups.OomKillDisable && !strings.Contains(res.Stderr, "WARNING: OOM killer is disabled for the container, but no memory limit is set") {
			t.Errorf("no warning for --oom-kill-disable without -m: %s", res)
		}
	})
}
