package cli

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// pruner runs one prune for `<object> prune` and `system prune`: what it
// prints (docker's "Deleted ...:" section, "" when nothing went) and the
// bytes it reclaimed.
type pruner func(ctx context.Context, api *client.Client, filters client.Filters) (output string, reclaimed uint64, err error)

// section is a prune's output: a title and one line per item, ended by the
// blank line docker prints.
func section(title string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	return title + "\n" + strings.Join(items, "\n") + "\n"
}

func pruneContainers(ctx context.Context, api *client.Client, filters client.Filters) (string, uint64, error) {
	res, err := api.ContainerPrune(ctx, client.ContainerPruneOptions{Filters: filters})
	if err != nil {
		return "", 0, err
	}
	return section("Deleted Containers:", res.Report.ContainersDeleted), res.Report.SpaceReclaimed, nil
}

func pruneNetworks(ctx context.Context, api *client.Client, filters client.Filters) (string, uint64, error) {
	res, err := api.NetworkPrune(ctx, client.NetworkPruneOptions{Filters: filters})
	if err != nil {
		return "", 0, err
	}
	return section("Deleted Networks:", res.Report.NetworksDeleted), 0, nil
}

// pruneVolumes prunes anonymous volumes, or every unused one with all.
func pruneVolumes(all bool) pruner {
	return func(ctx context.Context, api *client.Client, filters client.Filters) (string, uint64, error) {
		res, err := api.VolumePrune(ctx, client.VolumePruneOptions{All: all, Filters: filters})
		if err != nil {
			return "", 0, err
		}
		return section("Deleted Volumes:", res.Report.VolumesDeleted), res.Report.SpaceReclaimed, nil
	}
}

// pruneImages prunes dangling images, or every image no container uses
// with all.
func pruneImages(all bool) pruner {
	return func(ctx context.Context, api *client.Client, filters client.Filters) (string, uint64, error) {
		query := filters.Clone()
		query.Add("dangling", fmt.Sprint(!all))
		res, err := api.ImagePrune(ctx, client.ImagePruneOptions{Filters: query})
		if err != nil {
			return "", 0, err
		}
		var lines []string
		for _, d := range res.Report.ImagesDeleted {
			if d.Untagged != "" {
				lines = append(lines, "untagged: "+d.Untagged)
			} else {
				lines = append(lines, "deleted: "+d.Deleted)
			}
		}
		return section("Deleted Images:", lines), res.Report.SpaceReclaimed, nil
	}
}

// runPrunes asks (unless force), runs the pruners in order, prints their
// sections and, when total, docker's closing "Total reclaimed space:"
// line. A declined prompt runs nothing and returns declined.
func runPrunes(ctx context.Context, c *Cli, warning string, force, total bool, filters client.Filters, pruners ...pruner) (ran bool, err error) {
	if !force && !confirm(c, warning) {
		return false, nil
	}
	api, err := c.Client(ctx)
	if err != nil {
		return false, err
	}
	var reclaimed uint64
	for _, p := range pruners {
		out, n, err := p(ctx, api, filters)
		if err != nil {
			return true, err
		}
		reclaimed += n
		if out != "" {
			fmt.Fprintln(c.Out, out)
		}
	}
	if total {
		fmt.Fprintln(c.Out, "Total reclaimed space:", units.HumanSize(float64(reclaimed)))
	}
	return true, nil
}

// pruneCommand describes an `<object> prune`: its help, docker's prompt
// (warnAll with -a), whether it ends with the total reclaimed, and what it
// prunes with or without -a.
type pruneCommand struct {
	short, filterHelp string
	allHelp           string // "" when the command has no -a
	warning, warnAll  string
	total             bool
	pruner            func(all bool) pruner
}

// newPruneCommand makes an `<object> prune` with -f, --filter and, when
// the object has one, -a.
func newPruneCommand(c *Cli, p pruneCommand) *cobra.Command {
	var (
		all, force bool
		filters    = apiFilters{}
	)
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: p.short,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			warning := p.warning
			if all {
				warning = p.warnAll
			}
			_, err := runPrunes(cmd.Context(), c, warning, force, p.total, client.Filters(filters), p.pruner(all))
			return err
		},
	}
	flags := cmd.Flags()
	if p.allHelp != "" {
		flags.BoolVarP(&all, "all", "a", false, p.allHelp)
	}
	flags.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	flags.Var(filters, "filter", p.filterHelp)
	return cmd
}

// newImagePruneCommand makes `image prune`.
func newImagePruneCommand(c *Cli) *cobra.Command {
	return newPruneCommand(c, pruneCommand{
		short:      "Remove unused images",
		allHelp:    "Remove all unused images, not just dangling ones",
		filterHelp: `Provide filter values (e.g. "until=<timestamp>")`,
		warning:    "WARNING! This will remove all dangling images.",
		warnAll:    "WARNING! This will remove all images without at least one container associated to them.",
		total:      true,
		pruner:     pruneImages,
	})
}

// newContainerPruneCommand makes `container prune`.
func newContainerPruneCommand(c *Cli) *cobra.Command {
	return newPruneCommand(c, pruneCommand{
		short:      "Remove all stopped containers",
		filterHelp: `Provide filter values (e.g. "until=<timestamp>")`,
		warning:    "WARNING! This will remove all stopped containers.",
		total:      true,
		pruner:     func(bool) pruner { return pruneContainers },
	})
}

// systemPruneWarning is docker's prompt for `system prune`: what goes, and
// the filters when some are given.
func systemPruneWarning(all, volumes bool, filters client.Filters) string {
	var sb strings.Builder
	sb.WriteString("WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n")
	if volumes {
		sb.WriteString("  - all anonymous volumes not used by at least one container\n")
	}
	if all {
		sb.WriteString("  - all images without at least one container associated to them\n  - all build cache\n")
	} else {
		sb.WriteString("  - all dangling images\n  - unused build cache\n")
	}
	var given []string
	for key, values := range filters {
		for v := range values {
			given = append(given, key+"="+v)
		}
	}
	if len(given) > 0 {
		slices.Sort(given)
		sb.WriteString("\n  Items to be pruned will be filtered with:\n")
		for _, f := range given {
			sb.WriteString("  - " + f + "\n")
		}
	}
	return sb.String()
}

// newSystemPruneCommand makes `system prune`: containers, networks,
// volumes with --volumes (anonymous ones), images (dangling, or all unused
// with -a) and the build cache (dangling, or all with -a), in docker's order.
func newSystemPruneCommand(c *Cli) *cobra.Command {
	var (
		all, force, volumes bool
		filters             = apiFilters{}
	)
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pruners := []pruner{pruneContainers, pruneNetworks}
			if volumes {
				pruners = append(pruners, pruneVolumes(false))
			}
			pruners = append(pruners, pruneImages(all), pruneBuildCache(all))
			ran, err := runPrunes(cmd.Context(), c, systemPruneWarning(all, volumes, client.Filters(filters)), force, true, client.Filters(filters), pruners...)
			if err == nil && !ran {
				return fmt.Errorf("system prune has been cancelled")
			}
			return err
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&all, "all", "a", false, "Remove all unused images not just dangling ones")
	flags.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	flags.BoolVar(&volumes, "volumes", false, "Prune anonymous volumes")
	flags.Var(filters, "filter", `Provide filter values (e.g. "label=<key>=<value>")`)
	return cmd
}

// confirm asks a yes/no question on stdin, as docker's prune does.
func confirm(c *Cli, warning string) bool {
	fmt.Fprintf(c.Out, "%s\nAre you sure you want to continue? [y/N] ", warning)
	line, _ := bufio.NewReader(c.In).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}
