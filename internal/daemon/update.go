package daemon

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/oci"
)

// minMemory is docker's smallest memory limit (6 MiB).
const minMemory = 6 * 1024 * 1024

// ContainerUpdate changes a container's resource limits and restart policy
// (docker update). The new limits are persisted and, when the container
// runs, applied to its cgroups at once.
func (d *Daemon) ContainerUpdate(ctx context.Context, name string, req *containertypes.UpdateConfig) (containertypes.UpdateResponse, error) {
	c, err := d.lookup(name)
	if err != nil {
		return containertypes.UpdateResponse{}, err
	}
	resp, err := d.update(ctx, c, req)
	if err != nil {
		return resp, err
	}
	d.logContainerEvent(c, events.ActionUpdate, nil)
	return resp, nil
}

// update merges req into c's settings, applies them to its cgroups when it
// runs and saves them.
func (d *Daemon) update(ctx context.Context, c *container.Container, req *containertypes.UpdateConfig) (containertypes.UpdateResponse, error) {
	c.Lock()
	defer c.Unlock()
	updated := *c.HostConfig
	if err := mergeUpdate(&updated, req); err != nil {
		return containertypes.UpdateResponse{}, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
	}
	if c.State.IsRunning() {
		res, err := oci.Resources(updated.Resources, oci.DetectHost())
		if err != nil {
			return containertypes.UpdateResponse{}, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
		}
		data, err := json.Marshal(res)
		if err != nil {
			return containertypes.UpdateResponse{}, err
		}
		if err := d.tasks.Update(ctx, c.ID, data); err != nil {
			return containertypes.UpdateResponse{}, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
		}
	}
	*c.HostConfig = updated
	if err := c.Save(d.containerDataDir(c.ID)); err != nil {
		return containertypes.UpdateResponse{}, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
	}
	return containertypes.UpdateResponse{}, nil
}

// mergeUpdate applies the set fields of req to hc with moby's rules
// (container.UpdateContainer): NanoCPUs excludes CPUPeriod and CPUQuota,
// a memory limit above the memory+swap limit needs a new memory-swap, and a
// restart policy cannot come with --rm.
func mergeUpdate(hc *containertypes.HostConfig, req *containertypes.UpdateConfig) error {
	r, cur := req.Resources, &hc.Resources
	switch {
	case r.NanoCPUs > 0 && cur.CPUPeriod > 0:
		return conflictingUpdate("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set")
	case r.NanoCPUs > 0 && cur.CPUQuota > 0:
		return conflictingUpdate("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set")
	case r.CPUPeriod > 0 && cur.NanoCPUs > 0:
		return conflictingUpdate("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set")
	case r.CPUQuota > 0 && cur.NanoCPUs > 0:
		return conflictingUpdate("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set")
	case r.Memory != 0 && r.Memory < minMemory:
		return invalid("Minimum memory limit allowed is 6MB")
	case r.Memory != 0 && r.Memory > cur.MemorySwap && r.MemorySwap == 0:
		return conflictingUpdate("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
	case r.MemorySwap > 0 && r.Memory > 0 && r.MemorySwap < r.Memory:
		return invalid("Minimum memoryswap limit should be larger than memory limit, see usage")
	case r.MemoryReservation != 0 && r.MemoryReservation < minMemory:
		return invalid("Minimum memory reservation allowed is 6MB")
	case r.CPUShares < 0:
		return invalid("shares: invalid argument")
	}
	if r.BlkioWeight != 0 {
		if r.BlkioWeight < 10 || r.BlkioWeight > 1000 {
			return invalid("Range of blkio weight is from 10 to 1000")
		}
		cur.BlkioWeight = r.BlkioWeight
	}
	if r.CPUShares != 0 {
		cur.CPUShares = r.CPUShares
	}
	if r.NanoCPUs != 0 {
		cur.NanoCPUs = r.NanoCPUs
	}
	if r.CPUPeriod != 0 {
		cur.CPUPeriod = r.CPUPeriod
	}
	if r.CPUQuota != 0 {
		cur.CPUQuota = r.CPUQuota
	}
	if r.CpusetCpus != "" {
		cur.CpusetCpus = r.CpusetCpus
	}
	if r.CpusetMems != "" {
		cur.CpusetMems = r.CpusetMems
	}
	if r.Memory != 0 {
		cur.Memory = r.Memory
	}
	if r.MemorySwap != 0 {
		cur.MemorySwap = r.MemorySwap
	}
	if r.MemoryReservation != 0 {
		cur.MemoryReservation = r.MemoryReservation
	}
	if r.PidsLimit != nil {
		limit := *r.PidsLimit
		cur.PidsLimit = &limit
	}
	if req.RestartPolicy.Name != "" {
		if err := containertypes.ValidateRestartPolicy(req.RestartPolicy); err != nil {
			return invalid("%s", err.Error())
		}
		if hc.AutoRemove && !req.RestartPolicy.IsNone() {
			return conflictingUpdate("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
		hc.RestartPolicy = req.RestartPolicy
	}
	return nil
}

// conflictingUpdate is moby's error for an update at odds with the
// container's settings: a 400.
func conflictingUpdate(msg string) error {
	return errdefs.ErrInvalidArgument.WithMessage(msg)
}
