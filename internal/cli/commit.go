package cli

import (
	"fmt"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// newCommitCommand makes `commit` (and `container commit`).
func newCommitCommand(c *Cli) *cobra.Command {
	var (
		author, message string
		changes         []string
		pause           bool
	)
	cmd := &cobra.Command{
		Use:   "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		Short: "Create a new image from a container's changes",
		Args:  rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			ref := ""
			if len(args) > 1 {
				ref = args[1]
			}
			res, err := api.ContainerCommit(ctx, args[0], client.ContainerCommitOptions{
				Reference: ref,
				Comment:   message,
				Author:    author,
				Changes:   changes,
				NoPause:   !pause,
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.Out, res.ID)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&author, "author", "a", "", `Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`)
	flags.StringArrayVarP(&changes, "change", "c", nil, "Apply Dockerfile instruction to the created image")
	flags.StringVarP(&message, "message", "m", "", "Commit message")
	flags.BoolVarP(&pause, "pause", "p", true, "Pause container during commit")
	return cmd
}
