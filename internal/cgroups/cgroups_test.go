package cgroups

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tree writes files under a fresh root: path -> content.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const (
	mountsHybrid = `25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw
33 25 0:29 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755
34 33 0:30 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate
36 33 0:32 / /sys/fs/cgroup/memory rw shared:14 - cgroup cgroup rw,memory
37 33 0:33 / /sys/fs/cgroup/cpu,cpuacct rw shared:15 - cgroup cgroup rw,cpu,cpuacct
38 33 0:34 / /sys/fs/cgroup/blkio rw shared:16 - cgroup cgroup rw,blkio
39 33 0:35 / /sys/fs/cgroup/pids rw shared:17 - cgroup cgroup rw,pids
40 33 0:36 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd
`
	cgroupHybrid = `12:pids:/berth/abc
8:blkio:/berth/abc
4:cpu,cpuacct:/berth/abc
3:memory:/berth/abc
1:name=systemd:/berth/abc
0::/berth/abc
`
	mountsV2 = `25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw
33 25 0:29 / /sys/fs/cgroup rw shared:9 - cgroup2 cgroup2 rw,nsdelegate
`
	procStat = `cpu  100 0 50 800 10 0 40 0 0 0
cpu0 50 0 25 400 5 0 20 0 0 0
cpu1 50 0 25 400 5 0 20 0 0 0
intr 1
`
	netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    999       9    0    0    0     0          0         0      999       9    0    0    0     0       0          0
  eth0:   1500      10    1    2    0     0          0         0      700       7    3    4    0     0       0          0
`
)

func TestModeDetection(t *testing.T) {
	for _, tt := range []struct {
		mounts string
		want   Mode
	}{
		{mountsHybrid, Hybrid},
		{mountsV2, V2},
		{"36 33 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", V1},
	} {
		root := tree(t, map[string]string{"proc/self/mountinfo": tt.mounts})
		if got, err := (Host{Root: root}).Mode(); err != nil || got != tt.want {
			t.Errorf("mode %q, %v; want %q", got, err, tt.want)
		}
	}
	root := tree(t, map[string]string{"proc/self/mountinfo": "25 30 0:23 / /sys rw - sysfs sysfs rw\n"})
	if _, err := (Host{Root: root}).Mode(); err == nil {
		t.Error("no cgroup mount: no error")
	}
}

func TestStatsHybridReadsV1(t *testing.T) {
	root := tree(t, map[string]string{
		"proc/self/mountinfo": mountsHybrid,
		"proc/42/cgroup":      cgroupHybrid,
		"proc/42/net/dev":     netDev,
		"proc/stat":           procStat,
		"proc/meminfo":        "MemTotal:        2048 kB\n",
		"sys/fs/cgroup/cpu,cpuacct/berth/abc/cpuacct.usage":                       "5000\n",
		"sys/fs/cgroup/cpu,cpuacct/berth/abc/cpuacct.usage_percpu":                "2000 3000 \n",
		"sys/fs/cgroup/cpu,cpuacct/berth/abc/cpuacct.stat":                        "user 3\nsystem 1\n",
		"sys/fs/cgroup/cpu,cpuacct/berth/abc/cpu.stat":                            "nr_periods 4\nnr_throttled 2\nthrottled_time 99\n",
		"sys/fs/cgroup/memory/berth/abc/memory.usage_in_bytes":                    "1000\n",
		"sys/fs/cgroup/memory/berth/abc/memory.max_usage_in_bytes":                "1500\n",
		"sys/fs/cgroup/memory/berth/abc/memory.limit_in_bytes":                    "9223372036854771712\n",
		"sys/fs/cgroup/memory/berth/abc/memory.stat":                              "cache 300\ntotal_inactive_file 200\n",
		"sys/fs/cgroup/blkio/berth/abc/blkio.io_service_bytes_recursive":          "Total 0\n",
		"sys/fs/cgroup/blkio/berth/abc/blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n",
		"sys/fs/cgroup/pids/berth/abc/pids.current":                               "3\n",
		"sys/fs/cgroup/pids/berth/abc/pids.max":                                   "max\n",
		"sys/fs/cgroup/pids/berth/abc/cgroup.procs":                               "42\n43\n",
		"sys/fs/cgroup/unified/berth/abc/cgroup.procs":                            "1\n",
	})
	h := Host{Root: root}
	s, err := h.Stats(42)
	if err != nil {
		t.Fatal(err)
	}
	u := s.CPUStats.CPUUsage
	if u.TotalUsage != 5000 || !slices.Equal(u.PercpuUsage, []uint64{2000, 3000}) || u.UsageInUsermode != 3e7 || u.UsageInKernelmode != 1e7 {
		t.Errorf("cpu usage %+v", u)
	}
	if s.CPUStats.ThrottlingData.ThrottledPeriods != 2 || s.CPUStats.OnlineCPUs != 2 || s.CPUStats.SystemUsage != 1000*1e7 {
		t.Errorf("cpu stats %+v", s.CPUStats)
	}
	m := s.MemoryStats
	if m.Usage != 1000 || m.MaxUsage != 1500 || m.Limit != 2048*1024 || m.Stats["total_inactive_file"] != 200 {
		t.Errorf("memory %+v (an unlimited container's limit is the host's memory)", m)
	}
	b := s.BlkioStats.IoServiceBytesRecursive
	if len(b) != 3 || b[0].Op != "Read" || b[0].Value != 4096 || b[1].Major != 8 || b[1].Value != 8192 {
		t.Errorf("blkio %+v", b)
	}
	if s.PidsStats.Current != 3 || s.PidsStats.Limit != 0 {
		t.Errorf("pids %+v", s.PidsStats)
	}
	if n, ok := s.Networks["eth0"]; !ok || len(s.Networks) != 1 || n.RxBytes != 1500 || n.TxBytes != 700 || n.RxDropped != 2 || n.TxErrors != 3 {
		t.Errorf("networks %+v", s.Networks)
	}
	cg, err := h.Of(42)
	if err != nil {
		t.Fatal(err)
	}
	if pids, err := cg.Pids(); err != nil || !slices.Equal(pids, []int{42, 43}) {
		t.Errorf("pids %v %v, want the v1 cgroup's", pids, err)
	}
}

func TestStatsV2(t *testing.T) {
	root := tree(t, map[string]string{
		"proc/self/mountinfo":                    mountsV2,
		"proc/7/cgroup":                          "0::/berth/xyz\n",
		"proc/stat":                              procStat,
		"proc/meminfo":                           "MemTotal:        4096 kB\n",
		"sys/fs/cgroup/berth/xyz/cpu.stat":       "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 1\nnr_throttled 1\nthrottled_usec 2\n",
		"sys/fs/cgroup/berth/xyz/memory.current": "3000\n",
		"sys/fs/cgroup/berth/xyz/memory.max":     "1048576\n",
		"sys/fs/cgroup/berth/xyz/memory.stat":    "anon 100\ninactive_file 50\n",
		"sys/fs/cgroup/berth/xyz/io.stat":        "259:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n",
		"sys/fs/cgroup/berth/xyz/pids.current":   "2\n",
		"sys/fs/cgroup/berth/xyz/pids.max":       "64\n",
		"sys/fs/cgroup/berth/xyz/cgroup.procs":   "7\n",
	})
	s, err := Host{Root: root}.Stats(7)
	if err != nil {
		t.Fatal(err)
	}
	if u := s.CPUStats.CPUUsage; u.TotalUsage != 10000 || u.UsageInUsermode != 6000 || u.UsageInKernelmode != 4000 || s.CPUStats.ThrottlingData.ThrottledTime != 2000 {
		t.Errorf("cpu %+v", s.CPUStats)
	}
	if m := s.MemoryStats; m.Usage != 3000 || m.Limit != 1048576 || m.Stats["inactive_file"] != 50 {
		t.Errorf("memory %+v", m)
	}
	b := s.BlkioStats
	if len(b.IoServiceBytesRecursive) != 2 || b.IoServiceBytesRecursive[0].Op != "read" || b.IoServiceBytesRecursive[1].Value != 20 || len(b.IoServicedRecursive) != 2 {
		t.Errorf("blkio %+v", b)
	}
	if s.PidsStats.Current != 2 || s.PidsStats.Limit != 64 {
		t.Errorf("pids %+v", s.PidsStats)
	}
	if s.Networks != nil {
		t.Errorf("networks without /proc/7/net/dev: %v", s.Networks)
	}
}

func TestGoneProcess(t *testing.T) {
	root := tree(t, map[string]string{"proc/self/mountinfo": mountsV2})
	if _, err := (Host{Root: root}).Stats(99); err == nil {
		t.Error("stats of a gone process: no error")
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/a\040b`); got != "/a b" {
		t.Errorf("unescape %q", got)
	}
}
