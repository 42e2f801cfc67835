package oci

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hybridCgroups is what detectCgroups finds on our development machines.
func hybridCgroups() Cgroups {
	return Cgroups{Mode: CgroupHybrid, MemoryLimit: true, SwapLimit: true, MemoryReservation: true, MemorySwappiness: true,
		OomKillDisable: true, PidsLimit: true, CPUShares: true, CPUCfs: true, Cpuset: true, BlkioWeight: true,
		Cpus: "0-1", Mems: "0", NCPU: 2}
}

func TestVerifyResourcesErrors(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		r    containertypes.Resources
		want string
	}{
		{containertypes.Resources{Memory: 4 << 20}, "Minimum memory limit allowed is 6MB"},
		{containertypes.Resources{Memory: 10 << 20, MemorySwap: 5 << 20}, "Minimum memoryswap limit should be larger than memory limit, see usage"},
		{containertypes.Resources{MemorySwap: 20 << 20}, "You should always set the Memory limit when using Memoryswap limit, see usage"},
		{containertypes.Resources{MemoryReservation: 1 << 20}, "Minimum memory reservation allowed is 6MB"},
		{containertypes.Resources{Memory: 10 << 20, MemoryReservation: 20 << 20}, "Minimum memory limit can not be less than memory reservation limit, see usage"},
		{containertypes.Resources{MemorySwappiness: i64(101)}, "Invalid value: 101, valid memory swappiness range is 0-100"},
		{containertypes.Resources{NanoCPUs: 3e9}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{containertypes.Resources{NanoCPUs: -1}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"},
		{containertypes.Resources{NanoCPUs: 1e9, CPUPeriod: 100000}, "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
		{containertypes.Resources{NanoCPUs: 1e9, CPUQuota: 100000}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
		{containertypes.Resources{CPUPeriod: 999}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
		{containertypes.Resources{CPUQuota: 999}, "CPU cfs quota can not be less than 1ms (i.e. 1000)"},
		{containertypes.Resources{CpusetCpus: "5"}, "Requested CPUs are not available - requested 5, available: 0-1"},
		{containertypes.Resources{CpusetCpus: "0-1,3"}, "Requested CPUs are not available - requested 0-1,3, available: 0-1"},
		{containertypes.Resources{CpusetCpus: "abc"}, "Invalid value abc for cpuset cpus: invalid format: abc"},
		{containertypes.Resources{CpusetCpus: "1-0"}, "Invalid value 1-0 for cpuset cpus: invalid format: 1-0"},
		{containertypes.Resources{CpusetMems: "1"}, "Requested memory nodes are not available - requested 1, available: 0"},
		{containertypes.Resources{BlkioWeight: 5}, "Range of blkio weight is from 10 to 1000"},
		{containertypes.Resources{BlkioWeight: 1001}, "Range of blkio weight is from 10 to 1000"},
	} {
		r := tc.r
		_, err := VerifyResources(&r, hybridCgroups(), false)
		if err == nil || err.Error() != tc.want || !errdefs.IsInvalidArgument(err) {
			t.Errorf("%+v: err %v, want invalid argument %q", tc.r, err, tc.want)
		}
	}
}

func TestVerifyResourcesAccepts(t *testing.T) {
	r := containertypes.Resources{Memory: 6 << 20, MemorySwap: -1, MemoryReservation: 6 << 20, NanoCPUs: 2e9, CpusetCpus: "0,1", CpusetMems: "0", BlkioWeight: 10}
	warnings, err := VerifyResources(&r, hybridCgroups(), false)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("warnings %q, err %v", warnings, err)
	}
	// update may set a swap limit alone
	if _, err := VerifyResources(&containertypes.Resources{MemorySwap: 20 << 20}, hybridCgroups(), true); err != nil {
		t.Errorf("update with a swap limit alone: %v", err)
	}
}

// A limit the host cannot enforce is dropped with docker's warning.
func TestVerifyResourcesDiscards(t *testing.T) {
	yes, swappiness, pids := true, int64(10), int64(5)
	r := containertypes.Resources{Memory: 32 << 20, MemoryReservation: 16 << 20, MemorySwappiness: &swappiness, OomKillDisable: &yes,
		PidsLimit: &pids, CPUShares: 512, CPUQuota: 50000, CpusetCpus: "0", BlkioWeight: 300}
	warnings, err := VerifyResources(&r, Cgroups{Mode: CgroupV2, NCPU: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.",
		"Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.",
		"Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.",
		"Your kernel does not support OomKillDisable. OomKillDisable discarded.",
		"Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.",
		"Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.",
		"Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.",
		"Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.",
		"Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
	}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
	if r.Memory != 0 || r.MemorySwap != -1 || r.MemoryReservation != 0 || r.MemorySwappiness != nil || r.OomKillDisable != nil ||
		r.PidsLimit != nil || r.CPUShares != 0 || r.CPUQuota != 0 || r.CpusetCpus != "" || r.BlkioWeight != 0 {
		t.Errorf("not discarded: %+v", r)
	}
	// no swap accounting: memory limited without swap
	r = containertypes.Resources{Memory: 32 << 20}
	c := hybridCgroups()
	c.SwapLimit = false
	warnings, _ = VerifyResources(&r, c, false)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "Memory limited without swap") || r.MemorySwap != -1 {
		t.Errorf("without swap accounting: %q, swap %d", warnings, r.MemorySwap)
	}
}

func TestAdaptResources(t *testing.T) {
	r := containertypes.Resources{Memory: 16 << 20, CPUShares: 1}
	AdaptResources(&r, hybridCgroups())
	if r.MemorySwap != 32<<20 || r.CPUShares != 2 || r.OomKillDisable == nil || *r.OomKillDisable {
		t.Errorf("adapted: %+v", r)
	}
	r = containertypes.Resources{CPUShares: 1 << 20}
	AdaptResources(&r, Cgroups{Mode: CgroupV2})
	if r.CPUShares != 262144 || r.OomKillDisable != nil || r.MemorySwap != 0 {
		t.Errorf("adapted on v2: %+v", r)
	}
}

func TestVerifyIsolation(t *testing.T) {
	for _, tc := range []struct {
		hc   containertypes.HostConfig
		want string
	}{
		{containertypes.HostConfig{IpcMode: "bogus"}, "invalid IPC mode: bogus"},
		{containertypes.HostConfig{PidMode: "container:"}, "invalid PID mode: container:"},
		{containertypes.HostConfig{UTSMode: "container:x"}, "invalid UTS mode: container:x"},
		{containertypes.HostConfig{ShmSize: -1}, "SHM size can not be less than 0"},
		{containertypes.HostConfig{OomScoreAdj: 1001}, "Invalid value 1001, range for oom score adj is [-1000, 1000]"},
		{containertypes.HostConfig{CapAdd: []string{"foo"}}, `invalid CapAdd: unknown capability: "CAP_FOO"`},
		{containertypes.HostConfig{CapDrop: []string{"net_admin", "CAP_BAR"}}, `invalid CapDrop: unknown capability: "CAP_BAR"`},
		{containertypes.HostConfig{Sysctls: map[string]string{"kernel.panic": "1"}}, `sysctl "kernel.panic" is not in a separate kernel namespace`},
		{containertypes.HostConfig{NetworkMode: "host", Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}}, `sysctl "net.ipv4.ip_forward" not allowed in host network namespace`},
		{containertypes.HostConfig{IpcMode: "host", Sysctls: map[string]string{"kernel.shmmax": "1"}}, `sysctl "kernel.shmmax" not allowed with host ipc namespace`},
		{containertypes.HostConfig{Resources: containertypes.Resources{DeviceCgroupRules: []string{"x 1:3 rwm"}}}, "invalid device cgroup rule format: 'x 1:3 rwm'"},
		{containertypes.HostConfig{SecurityOpt: []string{"seccomp"}}, `invalid --security-opt 1: "seccomp"`},
	} {
		err := VerifyIsolation(&tc.hc)
		if err == nil || err.Error() != tc.want || !errdefs.IsInvalidArgument(err) {
			t.Errorf("%+v: err %v, want invalid argument %q", tc.hc, err, tc.want)
		}
	}
	ok := containertypes.HostConfig{IpcMode: "container:abc", PidMode: "host", CapAdd: []string{"ALL", "sys_admin", "CAP_NET_ADMIN", "Kill"},
		Sysctls: map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "10", "kernel.domainname": "x"}}
	if err := VerifyIsolation(&ok); err != nil {
		t.Errorf("valid settings refused: %v", err)
	}
}

func TestParseDeviceCgroupRule(t *testing.T) {
	got, err := ParseDeviceCgroupRule("c 10:* rw")
	if err != nil || got.Type != "c" || *got.Major != 10 || got.Minor != nil || got.Access != "rw" || !got.Allow {
		t.Errorf("c 10:* rw = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "c 1:3", "x 1:3 r", "c a:3 r", "c 1:3 rwx", "c 1:3 rwmr"} {
		if _, err := ParseDeviceCgroupRule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A fake v1 hierarchy: what the files present say the host supports.
func TestDetectCgroupsV1(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{
		"memory/memory.limit_in_bytes", "memory/memory.soft_limit_in_bytes", "memory/memory.oom_control",
		"cpu/cpu.shares", "cpu/cpu.cfs_quota_us", "pids/pids.current", "blkio/berth/blkio.bfq.weight",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "cpuset"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "cpuset", "cpuset.effective_cpus"), []byte("0-3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := detectCgroups(root)
	want := Cgroups{Mode: CgroupV1, MemoryLimit: true, MemoryReservation: true, OomKillDisable: true, PidsLimit: true,
		CPUShares: true, CPUCfs: true, Cpuset: true, BlkioWeight: true, BlkioBFQOnly: true, Cpus: "0-3", NCPU: c.NCPU}
	if c != want {
		t.Errorf("detected %+v\nwant     %+v", c, want)
	}
	if c.NCPU < 1 {
		t.Errorf("NCPU %d", c.NCPU)
	}
}

func TestSpecInitAndJoinedNamespaces(t *testing.T) {
	o := baseOptions()
	o.InitPath = "/usr/local/bin/berth-init"
	o.IpcNSPath, o.PidNSPath, o.ShmPath = "/proc/42/ns/ipc", "/proc/42/ns/pid", "/run/berth/containers/donor/shm"
	o.HostConfig = &containertypes.HostConfig{NetworkMode: "none", IpcMode: "container:donor", PidMode: "container:donor"}
	s, err := Spec(o)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]string{InitDest, "--"}, o.Args...); !slices.Equal(s.Process.Args, want) {
		t.Errorf("args %q, want %q", s.Process.Args, want)
	}
	mounts := map[string]specs.Mount{}
	for _, m := range s.Mounts {
		mounts[m.Destination] = m
	}
	if m := mounts[InitDest]; m.Source != o.InitPath || !slices.Contains(m.Options, "ro") {
		t.Errorf("init mount %+v", m)
	}
	if m := mounts["/dev/shm"]; m.Source != o.ShmPath || m.Type != "bind" {
		t.Errorf("/dev/shm mount %+v", m)
	}
	ns := map[specs.LinuxNamespaceType]string{}
	for _, n := range s.Linux.Namespaces {
		ns[n.Type] = n.Path
	}
	if ns[specs.IPCNamespace] != o.IpcNSPath || ns[specs.PIDNamespace] != o.PidNSPath {
		t.Errorf("namespaces %v", ns)
	}
	// a container: mode without the namespace to join is refused, never private
	o.PidNSPath = ""
	if _, err := Spec(o); !errdefs.IsInvalidArgument(err) {
		t.Errorf("pid container: without a path: %v", err)
	}
}

func TestSpecDeviceCgroupRules(t *testing.T) {
	o := baseOptions()
	o.HostConfig = &containertypes.HostConfig{NetworkMode: "none", Resources: containertypes.Resources{DeviceCgroupRules: []string{"c 10:229 rw"}}}
	s, err := Spec(o)
	if err != nil {
		t.Fatal(err)
	}
	last := s.Linux.Resources.Devices[len(s.Linux.Resources.Devices)-1]
	if !last.Allow || last.Type != "c" || *last.Major != 10 || *last.Minor != 229 || last.Access != "rw" {
		t.Errorf("last device rule %+v", last)
	}
}

// A fake unified hierarchy: the root's cgroup.controllers and its
// children's files say what a v2 host supports.
func TestDetectCgroupsV2Controllers(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"cgroup.controllers":                  "cpuset cpu io memory pids\n",
		"cpuset.cpus.effective":               "0-7\n",
		"cpuset.mems.effective":               "0\n",
		"system.slice/memory.swap.max":        "max\n",
		"system.slice/io.bfq.weight":          "default 100\n",
		"init.scope/cgroup.controllers":       "",
		"system.slice/cgroup.subtree_control": "",
	}
	for f, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := Cgroups{Mode: CgroupV2}
	detectV2(root, &c)
	want := Cgroups{Mode: CgroupV2, MemoryLimit: true, SwapLimit: true, MemoryReservation: true, PidsLimit: true,
		CPUShares: true, CPUCfs: true, Cpuset: true, BlkioWeight: true, Cpus: "0-7", Mems: "0"}
	if c != want {
		t.Errorf("detected %+v\nwant     %+v", c, want)
	}
	// v2 never offers swappiness nor disabling the OOM killer
	if c.MemorySwappiness || c.OomKillDisable {
		t.Errorf("v2: %+v", c)
	}
}
