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
	// docker's checks of the values, and its warnings for the limits the
	// host cannot enforce (dropped from the request)
	checked := *req
	warnings, err := oci.VerifyResources(&checked.Resources, d.host.Cgroups, true)
	if err != nil {
		return containertypes.UpdateResponse{Warnings: warnings}, err
	}
	resp := containertypes.UpdateResponse{Warnings: warnings}
	c.Lock()
	defer c.Unlock()
	updated := *c.HostConfig
	if err := mergeUpdate(&updated, &checked); err != nil {
		return containertypes.UpdateResponse{}, fmt.Errorf("Cannot update container %s: %w", c.ID, err)
	}
	if c.State.IsRunning() {
		res, err := oci.Resources(updated.Resources, d.host)
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
	return resp, nil
}

// mergeUpdate applies the set fields of req (checked by
// oci.VerifyResources) to hc with moby's rules (container.UpdateContainer): NanoCPUs excludes CPUPeriod and CPUQuota,
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
	case r.Memory != 0 && r.Memory > cur.MemorySwap && r.MemorySwap == 0:
		return conflictingUpdate("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time")
	}
	if r.BlkioWeight != 0 {
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
