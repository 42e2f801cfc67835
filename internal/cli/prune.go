package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// newImagePruneCommand makes `image prune`.
func newImagePruneCommand(c *Cli) *cobra.Command {
	var (
		all, force bool
		filters    = apiFilters{}
	)
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			query := client.Filters(filters).Clone()
			warning := "WARNING! This will remove all dangling images."
			if all {
				query.Add("dangling", "false")
				warning = "WARNING! This will remove all images without at least one container associated to them."
			} else {
				query.Add("dangling", "true")
			}
			if !force && !confirm(c, warning) {
				return nil
			}
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			res, err := api.ImagePrune(ctx, client.ImagePruneOptions{Filters: query})
			if err != nil {
				return err
			}
			if len(res.Report.ImagesDeleted) > 0 {
				var sb strings.Builder
				sb.WriteString("Deleted Images:\n")
				for _, d := range res.Report.ImagesDeleted {
					if d.Untagged != "" {
						sb.WriteString("untagged: " + d.Untagged + "\n")
					} else {
						sb.WriteString("deleted: " + d.Deleted + "\n")
					}
				}
				fmt.Fprintln(c.Out, sb.String())
			}
			fmt.Fprintln(c.Out, "Total reclaimed space:", units.HumanSize(float64(res.Report.SpaceReclaimed)))
			return nil
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&all, "all", "a", false, "Remove all unused images, not just dangling ones")
	flags.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	flags.Var(filters, "filter", `Provide filter values (e.g. "until=<timestamp>")`)
	return cmd
}

// confirm asks a yes/no question on stdin, as docker's prune does.
func confirm(c *Cli, warning string) bool {
	fmt.Fprintf(c.Out, "%s\nAre you sure you want to continue? [y/N] ", warning)
	line, _ := bufio.NewReader(c.In).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}
