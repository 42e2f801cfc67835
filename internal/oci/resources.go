package oci

import (
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setResources translates HostConfig.Resources into cgroup limits. Only
// what is set appears in the spec.
func setResources(s *specs.Spec, hc *containertypes.HostConfig, _ *Options, h *Host) error {
	r := hc.Resources
	res := &specs.LinuxResources{}
	if mem := memoryResources(r, h); mem != nil {
		res.Memory = mem
	}
	cpu, err := cpuResources(r)
	if err != nil {
		return err
	}
	res.CPU = cpu
	if r.PidsLimit != nil {
		limit := *r.PidsLimit
		if limit <= 0 {
			limit = -1 // 0 and negative mean unlimited in the API; runtimes want -1
		}
		if limit > 0 || !h.NoUnlimitedPids {
			res.Pids = &specs.LinuxPids{Limit: &limit}
		}
	}
	if r.BlkioWeight > 0 {
		w := r.BlkioWeight
		res.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	s.Linux.Resources = res
	return nil
}

func memoryResources(r containertypes.Resources, h *Host) *specs.LinuxMemory {
	var m specs.LinuxMemory
	set := false
	if r.Memory > 0 {
		m.Limit = int64p(r.Memory)
		set = true
	}
	if r.MemoryReservation > 0 {
		m.Reservation = int64p(r.MemoryReservation)
		set = true
	}
	if h.Cgroups.SwapLimit && r.Memory > 0 {
		swap := r.MemorySwap
		if swap == 0 {
			swap = 2 * r.Memory // docker's default: as much swap as memory
		}
		m.Swap = int64p(swap)
	}
	if r.MemorySwappiness != nil && *r.MemorySwappiness >= 0 {
		v := uint64(*r.MemorySwappiness)
		m.Swappiness = &v
		set = true
	}
	if r.OomKillDisable != nil && *r.OomKillDisable {
		m.DisableOOMKiller = r.OomKillDisable
		set = true
	}
	if !set {
		return nil
	}
	return &m
}

func cpuResources(r containertypes.Resources) (*specs.LinuxCPU, error) {
	if r.CPUShares < 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("shares: invalid argument")
	}
	var c specs.LinuxCPU
	set := false
	if r.CPUShares > 0 {
		v := uint64(r.CPUShares)
		c.Shares = &v
		set = true
	}
	if r.CpusetCpus != "" {
		c.Cpus = r.CpusetCpus
		set = true
	}
	if r.CpusetMems != "" {
		c.Mems = r.CpusetMems
		set = true
	}
	if r.NanoCPUs > 0 {
		// --cpus: a quota over the kernel's default 100ms CFS period
		period := uint64(100 * time.Millisecond / time.Microsecond)
		quota := r.NanoCPUs * int64(period) / 1e9
		c.Period = &period
		c.Quota = &quota
		set = true
	}
	if r.CPUPeriod > 0 {
		v := uint64(r.CPUPeriod)
		c.Period = &v
		set = true
	}
	if r.CPUQuota != 0 {
		c.Quota = int64p(r.CPUQuota)
		set = true
	}
	if !set {
		return nil, nil
	}
	return &c, nil
}
