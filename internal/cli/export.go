package cli

import (
	"io"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// newExportCommand makes `export` (and `container export`).
func newExportCommand(c *Cli) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] CONTAINER",
		Short: "Export a container's filesystem as a tar archive",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return writeArchive(c, output, "failed to export container", func() (io.ReadCloser, error) {
				api, err := c.Client(ctx)
				if err != nil {
					return nil, err
				}
				return api.ContainerExport(ctx, args[0], client.ContainerExportOptions{})
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}
