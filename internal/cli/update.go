package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// updateOptions are docker update's flags.
type updateOptions struct {
	blkioWeight        uint16
	cpuPeriod          int64
	cpuQuota           int64
	cpuRealtimePeriod  int64
	cpuRealtimeRuntime int64
	cpuShares          int64
	cpus               nanoCPUs
	cpusetCpus         string
	cpusetMems         string
	memory             memBytes
	memoryReservation  memBytes
	memorySwap         memBytes
	kernelMemory       memBytes
	pidsLimit          int64
	restart            string
}

func newUpdateCommand(c *Cli) *cobra.Command {
	var o updateOptions
	cmd := &cobra.Command{
		Use:   "update [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Update configuration of one or more containers",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().NFlag() == 0 {
				return errors.New("you must provide one or more flags when using this command")
			}
			opts, err := o.options(cmd)
			if err != nil {
				return err
			}
			return c.eachContainer(cmd.Context(), args, false, func(ctx context.Context, api *client.Client, name string) error {
				res, err := api.ContainerUpdate(ctx, name, opts)
				for _, w := range res.Warnings {
					fmt.Fprintln(c.Err, w)
				}
				return err
			})
		},
	}
	flags := cmd.Flags()
	flags.Uint16Var(&o.blkioWeight, "blkio-weight", 0, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)")
	flags.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	flags.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	flags.Int64Var(&o.cpuRealtimePeriod, "cpu-rt-period", 0, "Limit the CPU real-time period in microseconds")
	flags.Int64Var(&o.cpuRealtimeRuntime, "cpu-rt-runtime", 0, "Limit the CPU real-time runtime in microseconds")
	flags.Int64VarP(&o.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	flags.Var(&o.cpus, "cpus", "Number of CPUs")
	flags.StringVar(&o.cpusetCpus, "cpuset-cpus", "", "CPUs in which to allow execution (0-3, 0,1)")
	flags.StringVar(&o.cpusetMems, "cpuset-mems", "", "MEMs in which to allow execution (0-3, 0,1)")
	flags.VarP(&o.memory, "memory", "m", "Memory limit")
	flags.Var(&o.memoryReservation, "memory-reservation", "Memory soft limit")
	flags.Var(&o.memorySwap, "memory-swap", "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
	flags.Var(&o.kernelMemory, "kernel-memory", "Kernel memory limit (deprecated)")
	_ = flags.MarkDeprecated("kernel-memory", "and no longer supported by the kernel")
	flags.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	flags.StringVar(&o.restart, "restart", "", "Restart policy to apply when a container exits")
	return cmd
}

// options builds the update request: only what the flags set.
func (o *updateOptions) options(cmd *cobra.Command) (client.ContainerUpdateOptions, error) {
	r := &container.Resources{
		BlkioWeight:        o.blkioWeight,
		CPUPeriod:          o.cpuPeriod,
		CPUQuota:           o.cpuQuota,
		CPURealtimePeriod:  o.cpuRealtimePeriod,
		CPURealtimeRuntime: o.cpuRealtimeRuntime,
		CPUShares:          o.cpuShares,
		NanoCPUs:           int64(o.cpus),
		CpusetCpus:         o.cpusetCpus,
		CpusetMems:         o.cpusetMems,
		Memory:             int64(o.memory),
		MemoryReservation:  int64(o.memoryReservation),
		MemorySwap:         int64(o.memorySwap),
	}
	if cmd.Flags().Changed("pids-limit") {
		limit := o.pidsLimit
		r.PidsLimit = &limit
	}
	opts := client.ContainerUpdateOptions{Resources: r}
	if o.restart != "" {
		p, err := parseRestartPolicy(o.restart)
		if err != nil {
			return opts, err
		}
		opts.RestartPolicy = &p
	}
	return opts, nil
}
