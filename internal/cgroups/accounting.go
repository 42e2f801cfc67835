package cgroups

import (
	"context"

	containertypes "github.com/moby/moby/api/types/container"
)

// Accounting serves berthd's stats and top from the host's cgroups, /proc
// and ps.
type Accounting struct {
	Host Host
}

// Stats reads the counters of the container whose pid 1 is pid.
func (a Accounting) Stats(_ context.Context, pid int) (*containertypes.StatsResponse, error) {
	return a.Host.Stats(pid)
}

// Pids lists the processes in the cgroup of pid.
func (a Accounting) Pids(_ context.Context, pid int) ([]int, error) {
	cg, err := a.Host.Of(pid)
	if err != nil {
		return nil, err
	}
	return cg.Pids()
}

// PS runs the host's ps.
func (Accounting) PS(ctx context.Context, args []string, pids []int) ([]byte, error) {
	return PS(ctx, args, pids)
}
