package oci

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
)

// MinMemory is docker's smallest memory limit (and reservation): not the
// kernel's, but what a container needs to start at all.
const MinMemory = 6 << 20

// CPU shares outside the kernel's range are clamped, as docker does.
const (
	minCPUShares = 2
	maxCPUShares = 262144
)

func invalid(format string, args ...any) error {
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf(format, args...))
}

// VerifyResources checks r against docker's rules and what the host's
// cgroups c support, with docker's messages (moby's
// verifyPlatformContainerResources): an impossible value is an error, a
// limit the host cannot enforce is discarded from r with a warning. update
// is true for `docker update`, where a swap limit may come without memory.
func VerifyResources(r *containertypes.Resources, c Cgroups, update bool) (warnings []string, err error) {
	warn := func(s string) { warnings = append(warnings, s) }
	if r.MemorySwappiness != nil && *r.MemorySwappiness == -1 {
		r.MemorySwappiness = nil // -1 is the API's "unset"
	}

	// memory
	if r.Memory != 0 && r.Memory < MinMemory {
		return warnings, invalid("Minimum memory limit allowed is 6MB")
	}
	if r.Memory > 0 && !c.MemoryLimit {
		warn("Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.")
		r.Memory, r.MemorySwap = 0, -1
	}
	if r.Memory > 0 && r.MemorySwap != -1 && !c.SwapLimit {
		warn("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.")
		r.MemorySwap = -1
	}
	if r.Memory > 0 && r.MemorySwap > 0 && r.MemorySwap < r.Memory {
		return warnings, invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
	}
	if r.Memory == 0 && r.MemorySwap > 0 && !update {
		return warnings, invalid("You should always set the Memory limit when using Memoryswap limit, see usage")
	}
	if r.MemorySwappiness != nil && !c.MemorySwappiness {
		warn("Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.")
		r.MemorySwappiness = nil
	}
	if r.MemorySwappiness != nil && (*r.MemorySwappiness < 0 || *r.MemorySwappiness > 100) {
		return warnings, invalid("Invalid value: %v, valid memory swappiness range is 0-100", *r.MemorySwappiness)
	}
	if r.MemoryReservation > 0 && !c.MemoryReservation {
		warn("Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.")
		r.MemoryReservation = 0
	}
	if r.MemoryReservation > 0 && r.MemoryReservation < MinMemory {
		return warnings, invalid("Minimum memory reservation allowed is 6MB")
	}
	if r.Memory > 0 && r.MemoryReservation > 0 && r.Memory < r.MemoryReservation {
		return warnings, invalid("Minimum memory limit can not be less than memory reservation limit, see usage")
	}
	if r.OomKillDisable != nil && !c.OomKillDisable {
		if *r.OomKillDisable {
			warn("Your kernel does not support OomKillDisable. OomKillDisable discarded.")
		}
		r.OomKillDisable = nil
	}
	if r.OomKillDisable != nil && *r.OomKillDisable && r.Memory == 0 {
		warn("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
	}
	if r.PidsLimit != nil && !c.PidsLimit {
		if *r.PidsLimit > 0 {
			warn("Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.")
		}
		r.PidsLimit = nil
	}

	// cpu
	if r.NanoCPUs > 0 && r.CPUPeriod > 0 {
		return warnings, invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set")
	}
	if r.NanoCPUs > 0 && r.CPUQuota > 0 {
		return warnings, invalid("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
	}
	if r.NanoCPUs > 0 && !c.CPUCfs {
		return warnings, invalid("NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted")
	}
	if r.NanoCPUs < 0 || r.NanoCPUs > int64(c.NCPU)*1e9 {
		return warnings, invalid("Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", c.NCPU, c.NCPU)
	}
	if r.CPUShares > 0 && !c.CPUShares {
		warn("Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.")
		r.CPUShares = 0
	}
	if (r.CPUPeriod != 0 || r.CPUQuota != 0) && !c.CPUCfs {
		warn("Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.")
		r.CPUPeriod, r.CPUQuota = 0, 0
	}
	if r.CPUPeriod != 0 && (r.CPUPeriod < 1000 || r.CPUPeriod > 1000000) {
		return warnings, invalid("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)")
	}
	if r.CPUQuota > 0 && r.CPUQuota < 1000 {
		return warnings, invalid("CPU cfs quota can not be less than 1ms (i.e. 1000)")
	}
	if r.CPUPercent > 0 {
		warn("linux does not support CPU percent. Percent discarded.")
		r.CPUPercent = 0
	}

	// cpuset
	if (r.CpusetCpus != "" || r.CpusetMems != "") && !c.Cpuset {
		warn("Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.")
		r.CpusetCpus, r.CpusetMems = "", ""
	}
	if err := subsetOf(r.CpusetCpus, c.Cpus, "cpus", "CPUs"); err != nil {
		return warnings, err
	}
	if err := subsetOf(r.CpusetMems, c.Mems, "mems", "memory nodes"); err != nil {
		return warnings, err
	}

	// blkio
	if r.BlkioWeight > 0 && !c.BlkioWeight {
		warn("Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.")
		r.BlkioWeight = 0
	}
	if r.BlkioWeight > 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000) {
		return warnings, invalid("Range of blkio weight is from 10 to 1000")
	}
	if r.IOMaximumBandwidth != 0 || r.IOMaximumIOps != 0 {
		return warnings, invalid("Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps")
	}
	return warnings, nil
}

// subsetOf checks a --cpuset-cpus or --cpuset-mems list against those
// available; what names "cpus" or "mems" (docker's messages).
func subsetOf(requested, available, what, noun string) error {
	if requested == "" {
		return nil
	}
	req, err := parseUintList(requested)
	if err != nil {
		return invalid("Invalid value %s for cpuset %s: %v", requested, what, err)
	}
	if available == "" {
		return nil // the host's set is unknown: leave it to the kernel
	}
	avail, err := parseUintList(available)
	if err != nil {
		return nil
	}
	for n := range req {
		if !avail[n] {
			return invalid("Requested %s are not available - requested %s, available: %s", noun, requested, available)
		}
	}
	return nil
}

// parseUintList reads a kernel list such as "0-3,7" (docker's
// parsers.ParseUintList).
func parseUintList(val string) (map[int]bool, error) {
	errFormat := fmt.Errorf("invalid format: %s", val)
	out := map[int]bool{}
	for _, r := range strings.Split(val, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		min, err := strconv.Atoi(lo)
		if err != nil || min < 0 {
			return nil, errFormat
		}
		max := min
		if isRange {
			if max, err = strconv.Atoi(hi); err != nil || max < min {
				return nil, errFormat
			}
		}
		for i := min; i <= max; i++ {
			out[i] = true
		}
	}
	return out, nil
}

// AdaptResources fills in docker's defaults after verification, as docker
// stores them (and inspect shows them): CPU shares clamped to the kernel's
// range, a swap limit of twice the memory limit, OomKillDisable false where
// the kernel supports it.
func AdaptResources(r *containertypes.Resources, c Cgroups) {
	if r.CPUShares > 0 {
		r.CPUShares = min(max(r.CPUShares, minCPUShares), maxCPUShares)
	}
	if r.Memory > 0 && r.MemorySwap == 0 {
		r.MemorySwap = 2 * r.Memory
	}
	if r.OomKillDisable == nil && c.OomKillDisable {
		f := false
		r.OomKillDisable = &f
	}
}

// VerifyIsolation checks the namespace modes, capabilities, sysctls and
// device cgroup rules of hc with docker's messages. Joining another
// container's namespaces (container:<name>) is checked by the daemon,
// which knows the containers.
func VerifyIsolation(hc *containertypes.HostConfig) error {
	switch {
	case !hc.IpcMode.Valid():
		return invalid("invalid IPC mode: %v", hc.IpcMode)
	case !hc.PidMode.Valid():
		return invalid("invalid PID mode: %v", hc.PidMode)
	case !hc.UTSMode.Valid():
		return invalid("invalid UTS mode: %v", hc.UTSMode)
	case !hc.CgroupnsMode.Valid():
		return invalid("invalid cgroup namespace mode: %v", hc.CgroupnsMode)
	case hc.ShmSize < 0:
		return invalid("SHM size can not be less than 0")
	case hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000:
		return invalid("Invalid value %d, range for oom score adj is [-1000, 1000]", hc.OomScoreAdj)
	}
	if _, err := knownCapabilityNames(hc.CapAdd); err != nil {
		return fmt.Errorf("invalid CapAdd: %w", err)
	}
	if _, err := knownCapabilityNames(hc.CapDrop); err != nil {
		return fmt.Errorf("invalid CapDrop: %w", err)
	}
	for k := range hc.Sysctls {
		if err := namespacedSysctl(k, hc); err != nil {
			return err
		}
	}
	for _, rule := range hc.DeviceCgroupRules {
		if _, err := ParseDeviceCgroupRule(rule); err != nil {
			return err
		}
	}
	if _, err := parseSecurityOpts(hc.SecurityOpt, false); err != nil {
		return err
	}
	return nil
}

// ipcSysctls are the kernel.* sysctls the IPC namespace holds.
var ipcSysctls = []string{"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}

// namespacedSysctl refuses a sysctl the container's own namespaces do not
// hold, with the runtime's messages, at create rather than at start: it
// would change the host.
func namespacedSysctl(k string, hc *containertypes.HostConfig) error {
	switch {
	case slices.Contains(ipcSysctls, k), strings.HasPrefix(k, "fs.mqueue."):
		if hc.IpcMode.IsHost() {
			return invalid("sysctl %q not allowed with host ipc namespace", k)
		}
	case strings.HasPrefix(k, "net."):
		if hc.NetworkMode.IsHost() {
			return invalid("sysctl %q not allowed in host network namespace", k)
		}
	case k == "kernel.domainname", k == "kernel.hostname":
		if hc.UTSMode.IsHost() {
			return invalid("sysctl %q not allowed with host uts namespace", k)
		}
	default:
		return invalid("sysctl %q is not in a separate kernel namespace", k)
	}
	return nil
}
