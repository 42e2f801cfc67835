package cli

import (
	"fmt"
	"sort"

	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/format"
)

// addVolumeCommands registers the `volume` group (create, ls, inspect, rm,
// prune).
func addVolumeCommands(root *cobra.Command, c *Cli) {
	group := newGroupCommand(c, "volume", "Manage volumes")
	group.AddCommand(
		newVolumeCreateCommand(c),
		newVolumeInspectCommand(c),
		newVolumeListCommand(c),
		newVolumePruneCommand(c),
		newVolumeRemoveCommand(c),
	)
	root.AddCommand(group)
}

// newVolumeCreateCommand makes `volume create [NAME]`, which prints the
// volume's name (a random one when none is given).
func newVolumeCreateCommand(c *Cli) *cobra.Command {
	var (
		driver, name string
		driverOpts   keyValueOpt
		labels       listOpt
	)
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Args:  requiresMaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if name != "" {
					return fmt.Errorf("conflicting options: cannot specify a volume-name through both --name and as a positional arg")
				}
				name = args[0]
			}
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			res, err := api.VolumeCreate(ctx, client.VolumeCreateOptions{
				Name:       name,
				Driver:     driver,
				DriverOpts: driverOpts.values,
				Labels:     labelMap(labels.values),
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.Out, res.Volume.Name)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&driver, "driver", "d", "local", "Specify volume driver name")
	flags.StringVar(&name, "name", "", "Specify volume name")
	_ = flags.MarkHidden("name")
	flags.VarP(&driverOpts, "opt", "o", "Set driver specific options")
	flags.Var(&labels, "label", "Set metadata for a volume")
	return cmd
}

// newVolumeInspectCommand makes `volume inspect`.
func newVolumeInspectCommand(c *Cli) *cobra.Command {
	return newObjectInspectCommand(c, "VOLUME", "volumes", inspectVolume)
}

const (
	volumeTable       = "table {{.Driver}}\t{{.Name}}"
	volumeQuietFormat = "{{.Name}}"
)

// newVolumeListCommand makes `volume ls`.
func newVolumeListCommand(c *Cli) *cobra.Command {
	var (
		quiet      bool
		formatFlag string
		filters    = apiFilters{}
	)
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			res, err := api.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters(filters)})
			if err != nil {
				return err
			}
			sort.SliceStable(res.Items, func(i, j int) bool { return naturalLess(res.Items[i].Name, res.Items[j].Name) })
			rows := make([]any, 0, len(res.Items))
			for _, v := range res.Items {
				rows = append(rows, &volumeRow{v: v})
			}
			f := format.Format(formatFlag)
			switch formatFlag {
			case "", format.TableKey:
				f = volumeTable
				if quiet {
					f = volumeQuietFormat
				}
			}
			return format.Write(c.Out, f, rows, volumeHeader())
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&quiet, "quiet", "q", false, "Only display volume names")
	flags.StringVar(&formatFlag, "format", "", listFormatHelp)
	flags.VarP(filters, "filter", "f", `Provide filter values (e.g. "dangling=true")`)
	return cmd
}

// volumeHeader titles the columns of `volume ls`.
func volumeHeader() format.Header {
	return format.Header{
		"Name":       "VOLUME NAME",
		"Driver":     "DRIVER",
		"Scope":      "SCOPE",
		"Mountpoint": "MOUNTPOINT",
		"Labels":     "LABELS",
	}
}

// volumeRow is one line of `volume ls`; its methods are the fields a
// --format template may use.
type volumeRow struct{ v volume.Volume }

// Headers titles the columns.
func (r *volumeRow) Headers() map[string]string { return volumeHeader() }

// MarshalJSON gives --format json docker's keys.
func (r *volumeRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

// Name is the volume's name.
func (r *volumeRow) Name() string { return r.v.Name }

// Driver is the volume's driver.
func (r *volumeRow) Driver() string { return r.v.Driver }

// Scope is the volume's scope ("local").
func (r *volumeRow) Scope() string { return r.v.Scope }

// Mountpoint is the volume's folder on the host.
func (r *volumeRow) Mountpoint() string { return r.v.Mountpoint }

// Labels lists the labels as sorted key=value pairs.
func (r *volumeRow) Labels() string { return joinLabels(r.v.Labels) }

// Label returns one label's value, for {{.Label "key"}}.
func (r *volumeRow) Label(name string) string { return r.v.Labels[name] }

// newVolumeRemoveCommand makes `volume rm`: each volume removed is printed,
// each failure reported on stderr, and the command goes on; any failure
// makes the exit status 1.
func newVolumeRemoveCommand(c *Cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Args:    requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			failed := false
			for _, name := range args {
				if _, err := api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{Force: force}); err != nil {
					fmt.Fprintln(c.Err, err)
					failed = true
					continue
				}
				fmt.Fprintln(c.Out, name)
			}
			if failed {
				return StatusError{Status: "exit status 1", StatusCode: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of one or more volumes")
	return cmd
}

// docker's confirmation prompts for `volume prune`, without and with -a.
const (
	volumePruneWarning    = "WARNING! This will remove anonymous local volumes not used by at least one container."
	volumePruneAllWarning = "WARNING! This will remove all local volumes not used by at least one container."
)

// newVolumePruneCommand makes `volume prune`.
func newVolumePruneCommand(c *Cli) *cobra.Command {
	return newPruneCommand(c, pruneCommand{
		short:      "Remove unused local volumes",
		allHelp:    "Remove all unused volumes, not just anonymous ones",
		filterHelp: `Provide filter values (e.g. "label=<label>")`,
		warning:    volumePruneWarning,
		warnAll:    volumePruneAllWarning,
		total:      true,
		pruner:     pruneVolumes,
	})
}

// requiresMaxArgs checks the argument count with docker's message.
func requiresMaxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		return fmt.Errorf("%[1]s: '%[2]s' requires at most %[3]d %[4]s\n\nUsage:  %[5]s\n\nSee '%[2]s --help' for more information",
			cmd.Root().Name(), cmd.CommandPath(), n, pluralize("argument", n), cmd.UseLine())
	}
}
