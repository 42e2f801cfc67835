package format

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func TestStatsFiguresAndTable(t *testing.T) {
	s := &container.StatsResponse{ID: "0123456789abcdef0123", Name: "/web"}
	s.CPUStats.CPUUsage.TotalUsage = 3e8
	s.PreCPUStats.CPUUsage.TotalUsage = 1e8
	s.CPUStats.SystemUsage = 2e9
	s.PreCPUStats.SystemUsage = 1e9
	s.CPUStats.OnlineCPUs = 2
	s.MemoryStats = container.MemoryStats{Usage: 3 << 20, Limit: 64 << 20, Stats: map[string]uint64{"total_inactive_file": 1 << 20}}
	s.Networks = map[string]container.NetworkStats{"eth0": {RxBytes: 1500, TxBytes: 500}, "eth1": {RxBytes: 500}}
	s.BlkioStats.IoServiceBytesRecursive = []container.BlkioStatEntry{{Op: "Read", Value: 4096}, {Op: "write", Value: 1 << 20}, {Op: "Total", Value: 1}}
	s.PidsStats.Current = 4

	st := NewStats("web", s)
	if st.CPUPercentage != 40 || st.Memory != 2<<20 || st.MemoryPercentage != 3.125 || st.NetworkRx != 2000 || st.BlockRead != 4096 || st.BlockWrite != 1<<20 {
		t.Errorf("figures %+v", st)
	}
	var out bytes.Buffer
	if err := Write(&out, StatsFormat(""), []any{NewStatsRow(st, true), NewStatsRow(Stats{Container: "idle", Name: "idle", ID: "fedcba9876543210fedc"}, true)}, StatsHeader()); err != nil {
		t.Fatal(err)
	}
	want := `CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      BLOCK I/O        PIDS
0123456789ab   web       40.00%    2MiB / 64MiB        3.12%     2kB / 500B   4.1kB / 1.05MB   4
fedcba987654   idle      0.00%     0B / 0B             0.00%     0B / 0B      0B / 0B          0
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := Write(&out, StatsFormat("json"), []any{NewStatsRow(st, false)}, StatsHeader()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"ID":"0123456789abcdef0123"`) || !strings.Contains(out.String(), `"CPUPerc":"40.00%"`) {
		t.Errorf("json %s", out.String())
	}

	// v2: inactive_file, no precpu: 0%
	s2 := &container.StatsResponse{MemoryStats: container.MemoryStats{Usage: 100, Stats: map[string]uint64{"inactive_file": 40}}}
	s2.CPUStats.CPUUsage.TotalUsage = 10
	if st := NewStats("x", s2); st.Memory != 60 || st.CPUPercentage != 0 || st.MemoryPercentage != 0 {
		t.Errorf("v2 figures %+v", st)
	}
}
