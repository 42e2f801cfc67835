package oci

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where the host's cgroups are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// detectCgroups reads which controllers the host offers under root (a
// parameter so tests can point it at a fake tree).
func detectCgroups(root string) Cgroups {
	c := Cgroups{Mode: cgroupMode(root), NCPU: runtime.NumCPU()}
	if c.Mode == CgroupV2 {
		detectV2(root, &c)
	} else {
		detectV1(root, &c)
	}
	return c
}

// cgroupMode tells a pure v2 host (/sys/fs/cgroup is cgroup2) from a hybrid
// one (cgroup2 only at /sys/fs/cgroup/unified) and a v1 one.
func cgroupMode(root string) string {
	switch {
	case isCgroup2(root):
		return CgroupV2
	case isCgroup2(filepath.Join(root, "unified")):
		return CgroupHybrid
	case exists(filepath.Join(root, "memory")) || exists(filepath.Join(root, "cpu")):
		return CgroupV1
	}
	return ""
}

func isCgroup2(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC
}

func detectV1(root string, c *Cgroups) {
	mem := filepath.Join(root, "memory")
	c.MemoryLimit = exists(filepath.Join(mem, "memory.limit_in_bytes"))
	c.SwapLimit = exists(filepath.Join(mem, "memory.memsw.limit_in_bytes"))
	c.MemoryReservation = exists(filepath.Join(mem, "memory.soft_limit_in_bytes"))
	c.MemorySwappiness = exists(filepath.Join(mem, "memory.swappiness"))
	c.OomKillDisable = exists(filepath.Join(mem, "memory.oom_control"))
	c.PidsLimit = exists(filepath.Join(root, "pids"))
	cpu := filepath.Join(root, "cpu")
	c.CPUShares = exists(filepath.Join(cpu, "cpu.shares"))
	c.CPUCfs = exists(filepath.Join(cpu, "cpu.cfs_quota_us"))
	cpuset := filepath.Join(root, "cpuset")
	if exists(cpuset) {
		c.Cpuset = true
		c.Cpus = firstLine(filepath.Join(cpuset, "cpuset.effective_cpus"), filepath.Join(cpuset, "cpuset.cpus"))
		c.Mems = firstLine(filepath.Join(cpuset, "cpuset.effective_mems"), filepath.Join(cpuset, "cpuset.mems"))
	}
	// With the BFQ scheduler the weight is blkio.bfq.weight, which only
	// child cgroups have; runc writes whichever the container's cgroup has.
	c.BlkioWeight = inSelfOrChild(filepath.Join(root, "blkio"), "blkio.weight", "blkio.bfq.weight")
	c.BlkioBFQOnly = c.BlkioWeight && !inSelfOrChild(filepath.Join(root, "blkio"), "blkio.weight")
}

func detectV2(root string, c *Cgroups) {
	controllers := strings.Fields(firstLine(filepath.Join(root, "cgroup.controllers")))
	has := func(name string) bool { return slices.Contains(controllers, name) }
	if has("memory") {
		c.MemoryLimit, c.MemoryReservation = true, true // memory.max, memory.low
		// the root cgroup has no memory.swap.max; look at a child
		c.SwapLimit = inSelfOrChild(root, "memory.swap.max")
	}
	// cgroup v2 has no swappiness and no way to disable the OOM killer.
	c.PidsLimit = has("pids")
	if has("cpu") {
		c.CPUShares, c.CPUCfs = true, true // cpu.weight, cpu.max
	}
	if has("cpuset") {
		c.Cpuset = true
		c.Cpus = firstLine(filepath.Join(root, "cpuset.cpus.effective"))
		c.Mems = firstLine(filepath.Join(root, "cpuset.mems.effective"))
	}
	c.BlkioWeight = has("io") && inSelfOrChild(root, "io.weight", "io.bfq.weight")
}

// inSelfOrChild reports whether dir or one of its child folders holds one
// of the files.
func inSelfOrChild(dir string, files ...string) bool {
	dirs := []string{dir}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if e.IsDir() {
				dirs = append(dirs, filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, d := range dirs {
		for _, f := range files {
			if exists(filepath.Join(d, f)) {
				return true
			}
		}
	}
	return false
}

// firstLine returns the trimmed content of the first of paths that can be
// read.
func firstLine(paths ...string) string {
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}
