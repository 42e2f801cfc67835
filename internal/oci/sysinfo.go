package oci

// Cgroup layouts, as Cgroups.Mode reports them.
const (
	CgroupV1     = "v1"     // every controller on a v1 hierarchy
	CgroupHybrid = "hybrid" // v1 controllers, plus an empty v2 hierarchy at /sys/fs/cgroup/unified
	CgroupV2     = "v2"     // one unified v2 hierarchy at /sys/fs/cgroup
)

// Cgroups is what the host's cgroups can limit: docker's sysinfo. The
// resource controllers come from the v1 hierarchies on v1 and hybrid hosts
// (the v2 mount of a hybrid host holds no controller), from the unified
// hierarchy on v2 hosts.
type Cgroups struct {
	// Mode is CgroupV1, CgroupHybrid or CgroupV2; "" when unknown.
	Mode string

	MemoryLimit bool
	// SwapLimit reports whether the memory cgroup accounts swap, without
	// which a swap limit cannot be set.
	SwapLimit         bool
	MemoryReservation bool
	MemorySwappiness  bool
	OomKillDisable    bool
	PidsLimit         bool
	CPUShares         bool
	CPUCfs            bool
	Cpuset            bool
	BlkioWeight       bool
	// BlkioBFQOnly: on cgroup v1 the weight is only blkio.bfq.weight (the
	// BFQ scheduler), which a runtime must know to write (crun from 1.8.2).
	BlkioBFQOnly bool

	// Cpus and Mems are the CPUs and memory nodes containers may use (the
	// root cpuset), e.g. "0-1" and "0".
	Cpus string
	Mems string
	// NCPU is the number of CPUs berth may run on, the bound of --cpus.
	NCPU int
}
