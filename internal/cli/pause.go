package cli

import (
	"context"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// addRunOpsCommands adds pause, unpause, update, top and stats to parent
// (the root, and the `container` management command).
func addRunOpsCommands(parent *cobra.Command, c *Cli) {
	parent.AddCommand(newPauseCommand(c), newUnpauseCommand(c), newUpdateCommand(c), newTopCommand(c), newStatsCommand(c))
}

func newPauseCommand(c *Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER [CONTAINER...]",
		Short: "Pause all processes within one or more containers",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.eachContainer(cmd.Context(), args, true, func(ctx context.Context, api *client.Client, name string) error {
				_, err := api.ContainerPause(ctx, name, client.ContainerPauseOptions{})
				return err
			})
		},
	}
}

func newUnpauseCommand(c *Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "unpause CONTAINER [CONTAINER...]",
		Short: "Unpause all processes within one or more containers",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.eachContainer(cmd.Context(), args, true, func(ctx context.Context, api *client.Client, name string) error {
				_, err := api.ContainerUnpause(ctx, name, client.ContainerUnpauseOptions{})
				return err
			})
		},
	}
}
