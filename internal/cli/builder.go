package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// addBuilderCommands adds the builder group (build, prune).
func addBuilderCommands(root *cobra.Command, c *Cli) {
	cmd := newGroupCommand(c, "builder", "Manage builds")
	cmd.AddCommand(newBuilderBuildCommand(c), newBuilderPruneCommand(c))
	root.AddCommand(cmd)
}

// newBuilderPruneCommand makes `builder prune`, docker's: the dangling
// build cache, or all of it with -a, filtered (until=24h, id=, type=, ...)
// and down to --keep-storage.
func newBuilderPruneCommand(c *Cli) *cobra.Command {
	var (
		all, force  bool
		filters     = apiFilters{}
		keepStorage memBytes
	)
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove build cache",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			warning := "WARNING! This will remove all dangling build cache."
			if all {
				warning = "WARNING! This will remove all build cache."
			}
			if !force && !confirmInline(c, warning+" Are you sure you want to continue?") {
				return nil
			}
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			out, reclaimed, err := buildCachePrune(ctx, api, client.BuildCachePruneOptions{
				All: all, ReservedSpace: int64(keepStorage), Filters: client.Filters(filters),
			})
			if err != nil {
				return err
			}
			if out != "" {
				fmt.Fprintln(c.Out, out)
			}
			fmt.Fprintln(c.Out, "Total reclaimed space:", units.HumanSize(float64(reclaimed)))
			return nil
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&all, "all", "a", false, "Remove all unused build cache, not just dangling ones")
	flags.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	flags.Var(filters, "filter", `Provide filter values (e.g. "until=24h")`)
	flags.Var(&keepStorage, "keep-storage", "Amount of disk space to keep for cache")
	return cmd
}

// confirmInline asks docker's one-line question ("... [y/N] ").
func confirmInline(c *Cli, question string) bool {
	fmt.Fprintf(c.Out, "%s [y/N] ", question)
	line, _ := bufio.NewReader(c.In).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// buildCachePrune prunes the build cache: docker's "Deleted build cache
// objects:" section ("" when nothing went) and the bytes reclaimed.
func buildCachePrune(ctx context.Context, api *client.Client, opts client.BuildCachePruneOptions) (string, uint64, error) {
	res, err := api.BuildCachePrune(ctx, opts)
	if err != nil {
		return "", 0, err
	}
	return section("Deleted build cache objects:", res.Report.CachesDeleted), res.Report.SpaceReclaimed, nil
}

// pruneBuildCache is `system prune`'s build cache step: the dangling
// cache, or all of it with -a, with the same filters.
func pruneBuildCache(all bool) pruner {
	return func(ctx context.Context, api *client.Client, filters client.Filters) (string, uint64, error) {
		return buildCachePrune(ctx, api, client.BuildCachePruneOptions{All: all, Filters: filters})
	}
}

// printBuildCacheRows prints `system df -v`'s build cache rows as docker:
// least recently used first (never used before), ids cut to 12 and
// starred when in use.
func printBuildCacheRows(w io.Writer, records []build.CacheRecord, now time.Time) {
	records = slices.Clone(records)
	slices.SortStableFunc(records, func(a, b build.CacheRecord) int {
		switch {
		case a.LastUsedAt == nil && b.LastUsedAt == nil, a.LastUsedAt != nil && b.LastUsedAt != nil && a.LastUsedAt.Equal(*b.LastUsedAt):
			return strings.Compare(a.ID, b.ID)
		case a.LastUsedAt == nil:
			return -1
		case b.LastUsedAt == nil:
			return 1
		}
		return a.LastUsedAt.Compare(*b.LastUsedAt)
	})
	for _, r := range records {
		id := r.ID
		if i := strings.IndexByte(id, ':'); i >= 0 {
			id = id[i+1:]
		}
		if len(id) > 12 {
			id = id[:12]
		}
		if r.InUse {
			id += "*"
		}
		lastUsed := ""
		if r.LastUsedAt != nil {
			lastUsed = units.HumanDuration(now.Sub(*r.LastUsedAt)) + " ago"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%t\n", id, r.Type, units.HumanSizeWithPrecision(float64(r.Size), 3),
			units.HumanDuration(now.Sub(r.CreatedAt))+" ago", lastUsed, r.UsageCount, r.Shared)
	}
}
