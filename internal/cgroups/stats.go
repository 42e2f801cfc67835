package cgroups

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
)

// userHZ is the unit of cpuacct.stat and /proc/stat (USER_HZ, 100 on every
// Linux architecture docker supports).
const userHZ = 100

const nsPerTick = 1e9 / userHZ

// Stats reads the counters of the container whose pid 1 is pid: the cgroup
// parts of docker's stats (CPU, memory, block I/O, pids), the host's CPU
// time and CPU count (for the CPU %), and the counters of the network
// interfaces of its namespace. The memory limit of an unlimited container is
// the host's memory, as dockerd reports it.
func (h Host) Stats(pid int) (*containertypes.StatsResponse, error) {
	cg, err := h.Of(pid)
	if err != nil {
		return nil, err
	}
	s := &containertypes.StatsResponse{}
	if cg.V2() {
		cg.statsV2(s)
	} else {
		cg.statsV1(s)
	}
	s.CPUStats.SystemUsage, s.CPUStats.OnlineCPUs = h.systemCPU()
	if total := h.machineMemory(); total > 0 && (s.MemoryStats.Limit == 0 || s.MemoryStats.Limit > total) {
		s.MemoryStats.Limit = total
	}
	s.Networks = h.networks(pid)
	return s, nil
}

func (c *Cgroup) statsV1(s *containertypes.StatsResponse) {
	cpuacct := c.dir("cpuacct")
	cpu := &s.CPUStats
	cpu.CPUUsage.TotalUsage = readUint(filepath.Join(cpuacct, "cpuacct.usage"))
	if data, err := os.ReadFile(filepath.Join(cpuacct, "cpuacct.usage_percpu")); err == nil {
		for _, f := range strings.Fields(string(data)) {
			n, _ := strconv.ParseUint(f, 10, 64)
			cpu.CPUUsage.PercpuUsage = append(cpu.CPUUsage.PercpuUsage, n)
		}
	}
	st := readKeyed(filepath.Join(cpuacct, "cpuacct.stat"))
	cpu.CPUUsage.UsageInUsermode = st["user"] * nsPerTick
	cpu.CPUUsage.UsageInKernelmode = st["system"] * nsPerTick
	if d := c.dir("cpu"); d != "" {
		t := readKeyed(filepath.Join(d, "cpu.stat"))
		cpu.ThrottlingData = containertypes.ThrottlingData{Periods: t["nr_periods"], ThrottledPeriods: t["nr_throttled"], ThrottledTime: t["throttled_time"]}
	}

	if mem := c.dir("memory"); mem != "" {
		s.MemoryStats = containertypes.MemoryStats{
			Usage:    readUint(filepath.Join(mem, "memory.usage_in_bytes")),
			MaxUsage: readUint(filepath.Join(mem, "memory.max_usage_in_bytes")),
			Failcnt:  readUint(filepath.Join(mem, "memory.failcnt")),
			Limit:    readUint(filepath.Join(mem, "memory.limit_in_bytes")),
			Stats:    readKeyed(filepath.Join(mem, "memory.stat")),
		}
	}

	if blkio := c.dir("blkio"); blkio != "" {
		b := &s.BlkioStats
		b.IoServiceBytesRecursive = readBlkioV1(blkio, "io_service_bytes_recursive")
		b.IoServicedRecursive = readBlkioV1(blkio, "io_serviced_recursive")
	}

	if pids := c.dir("pids"); pids != "" {
		s.PidsStats = containertypes.PidsStats{
			Current: readUint(filepath.Join(pids, "pids.current")),
			Limit:   readUint(filepath.Join(pids, "pids.max")),
		}
	}
}

// readBlkioV1 reads blkio.<name> ("8:0 Read 4096" lines), or the throttle
// policy's blkio.throttle.<name> when the first is empty: without the CFQ
// scheduler (blk-mq hosts) only the throttle policy counts.
func readBlkioV1(dir, name string) []containertypes.BlkioStatEntry {
	for _, file := range []string{"blkio." + name, "blkio.throttle." + name} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			continue
		}
		var out []containertypes.BlkioStatEntry
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				continue
			}
			major, minor, ok := parseDevice(f[0])
			v, err := strconv.ParseUint(f[2], 10, 64)
			if !ok || err != nil {
				continue
			}
			out = append(out, containertypes.BlkioStatEntry{Major: major, Minor: minor, Op: f[1], Value: v})
		}
		if len(out) > 0 {
			return out
		}
	}
	return []containertypes.BlkioStatEntry{}
}

func parseDevice(s string) (uint64, uint64, bool) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, false
	}
	major, err1 := strconv.ParseUint(a, 10, 64)
	minor, err2 := strconv.ParseUint(b, 10, 64)
	return major, minor, err1 == nil && err2 == nil
}

func (c *Cgroup) statsV2(s *containertypes.StatsResponse) {
	dir := c.v2
	st := readKeyed(filepath.Join(dir, "cpu.stat"))
	s.CPUStats.CPUUsage = containertypes.CPUUsage{
		TotalUsage:        st["usage_usec"] * 1000,
		UsageInUsermode:   st["user_usec"] * 1000,
		UsageInKernelmode: st["system_usec"] * 1000,
	}
	s.CPUStats.ThrottlingData = containertypes.ThrottlingData{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_usec"] * 1000}

	s.MemoryStats = containertypes.MemoryStats{
		Usage: readUint(filepath.Join(dir, "memory.current")),
		Limit: readUint(filepath.Join(dir, "memory.max")),
		Stats: readKeyed(filepath.Join(dir, "memory.stat")),
	}
	if peak := readUint(filepath.Join(dir, "memory.peak")); peak > 0 {
		s.MemoryStats.MaxUsage = peak
	}

	s.BlkioStats.IoServiceBytesRecursive = []containertypes.BlkioStatEntry{}
	s.BlkioStats.IoServicedRecursive = []containertypes.BlkioStatEntry{}
	if data, err := os.ReadFile(filepath.Join(dir, "io.stat")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			major, minor, ok := parseDevice(f[0])
			if !ok {
				continue
			}
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					continue
				}
				e := containertypes.BlkioStatEntry{Major: major, Minor: minor, Value: n}
				switch k {
				case "rbytes", "wbytes":
					e.Op = map[string]string{"rbytes": "read", "wbytes": "write"}[k]
					s.BlkioStats.IoServiceBytesRecursive = append(s.BlkioStats.IoServiceBytesRecursive, e)
				case "rios", "wios":
					e.Op = map[string]string{"rios": "read", "wios": "write"}[k]
					s.BlkioStats.IoServicedRecursive = append(s.BlkioStats.IoServicedRecursive, e)
				}
			}
		}
	}

	s.PidsStats = containertypes.PidsStats{
		Current: readUint(filepath.Join(dir, "pids.current")),
		Limit:   readUint(filepath.Join(dir, "pids.max")),
	}
}

// systemCPU is the host's CPU time in nanoseconds and its online CPU count
// (the cpuN lines of /proc/stat). The time is what the CPUs had since boot
// (time since boot times the CPUs, at nanosecond precision) where the clock
// is readable, else the sum of /proc/stat's first seven fields as dockerd
// computes it: the two agree but for steal time, and /proc/stat's 10 ms
// ticks would make a short window's CPU % coarse.
func (h Host) systemCPU() (uint64, uint32) {
	data, err := os.ReadFile(h.path("proc/stat"))
	if err != nil {
		return 0, 0
	}
	var total uint64
	var cpus uint32
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			cpus++
			continue
		}
		for i := 1; i < len(f) && i <= 7; i++ {
			n, _ := strconv.ParseUint(f[i], 10, 64)
			total += n
		}
	}
	if h.Root == "" || h.Root == "/" {
		if up, ok := sinceBoot(); ok && cpus > 0 {
			return up * uint64(cpus), cpus
		}
	}
	return total * nsPerTick, cpus
}

// machineMemory is the host's memory in bytes (/proc/meminfo MemTotal).
func (h Host) machineMemory() uint64 {
	data, err := os.ReadFile(h.path("proc/meminfo"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseUint(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// networks reads the counters of the interfaces of pid's network namespace
// (/proc/<pid>/net/dev shows the namespace of pid), loopback left out as
// docker does. A container without its own namespace shows the host's.
func (h Host) networks(pid int) map[string]containertypes.NetworkStats {
	data, err := os.ReadFile(h.path("proc", strconv.Itoa(pid), "net/dev"))
	if err != nil {
		return nil
	}
	out := map[string]containertypes.NetworkStats{}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "lo" || strings.Contains(name, "|") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 12 {
			continue
		}
		n := make([]uint64, 12)
		for i := range n {
			n[i], _ = strconv.ParseUint(f[i], 10, 64)
		}
		out[name] = containertypes.NetworkStats{
			RxBytes: n[0], RxPackets: n[1], RxErrors: n[2], RxDropped: n[3],
			TxBytes: n[8], TxPackets: n[9], TxErrors: n[10], TxDropped: n[11],
		}
	}
	return out
}
