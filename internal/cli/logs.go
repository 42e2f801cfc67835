package cli

import (
	"context"
	"io"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newLogsCommand(c *Cli) *cobra.Command {
	var opts client.ContainerLogsOptions
	cmd := &cobra.Command{
		Use:   "logs [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), c, args[0], opts)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&opts.Follow, "follow", "f", false, "Follow log output")
	flags.StringVar(&opts.Since, "since", "", `Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)`)
	flags.StringVar(&opts.Until, "until", "", `Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)`)
	flags.BoolVarP(&opts.Timestamps, "timestamps", "t", false, "Show timestamps")
	flags.BoolVar(&opts.Details, "details", false, "Show extra details provided to logs")
	flags.StringVarP(&opts.Tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
	return cmd
}

// runLogs copies the container's log to stdout and stderr; a TTY container's
// log is one raw stream, any other is stdcopy-multiplexed.
func runLogs(ctx context.Context, c *Cli, name string, opts client.ContainerLogsOptions) error {
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	res, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	opts.ShowStdout, opts.ShowStderr = true, true
	body, err := api.ContainerLogs(ctx, res.Container.ID, opts)
	if err != nil {
		return err
	}
	defer body.Close()
	if res.Container.Config != nil && res.Container.Config.Tty {
		_, err = io.Copy(c.Out, body)
	} else {
		_, err = stdcopy.StdCopy(c.Out, c.Err, body)
	}
	return err
}
