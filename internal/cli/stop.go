package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// stopFlags are the options shared by stop and restart.
type stopFlags struct {
	signal  string
	timeout int
}

func (f *stopFlags) register(cmd *cobra.Command) {
	flags := cmd.Flags()
	flags.StringVarP(&f.signal, "signal", "s", "", "Signal to send to the container")
	flags.IntVarP(&f.timeout, "timeout", "t", 0, "Seconds to wait before killing the container")
	flags.IntVar(&f.timeout, "time", 0, "Seconds to wait before killing the container (deprecated: use --timeout)")
	_ = flags.MarkDeprecated("time", "use --timeout instead")
}

// timeoutPtr is nil unless -t was given, so the daemon applies the
// container's own stop timeout.
func (f *stopFlags) timeoutPtr(cmd *cobra.Command) (*int, error) {
	flags := cmd.Flags()
	if flags.Changed("time") && flags.Changed("timeout") {
		return nil, errors.New("conflicting options: cannot specify both --timeout and --time")
	}
	if flags.Changed("time") || flags.Changed("timeout") {
		t := f.timeout
		return &t, nil
	}
	return nil, nil
}

func newStopCommand(c *Cli) *cobra.Command {
	var f stopFlags
	cmd := &cobra.Command{
		Use:   "stop [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Stop one or more running containers",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			timeout, err := f.timeoutPtr(cmd)
			if err != nil {
				return err
			}
			return c.eachContainer(cmd.Context(), args, true, func(ctx context.Context, api *client.Client, name string) error {
				_, err := api.ContainerStop(ctx, name, client.ContainerStopOptions{Signal: f.signal, Timeout: timeout})
				return err
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newRestartCommand(c *Cli) *cobra.Command {
	var f stopFlags
	cmd := &cobra.Command{
		Use:   "restart [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			timeout, err := f.timeoutPtr(cmd)
			if err != nil {
				return err
			}
			return c.eachContainer(cmd.Context(), args, false, func(ctx context.Context, api *client.Client, name string) error {
				_, err := api.ContainerRestart(ctx, name, client.ContainerRestartOptions{Signal: f.signal, Timeout: timeout})
				return err
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newKillCommand(c *Cli) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.eachContainer(cmd.Context(), args, true, func(ctx context.Context, api *client.Client, name string) error {
				_, err := api.ContainerKill(ctx, name, client.ContainerKillOptions{Signal: signal})
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container")
	return cmd
}

func newRmCommand(c *Cli) *cobra.Command {
	var opts client.ContainerRemoveOptions
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more containers",
		Args:    requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.eachContainer(cmd.Context(), args, true, func(ctx context.Context, api *client.Client, name string) error {
				name = strings.Trim(name, "/")
				if name == "" {
					return errors.New("container name cannot be empty")
				}
				_, err := api.ContainerRemove(ctx, name, opts)
				if err != nil && opts.Force && cerrdefs.IsNotFound(err) {
					// rm -f of a missing container reports but does not fail.
					fmt.Fprintln(c.Err, err)
					return errSkip
				}
				return err
			})
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&opts.RemoveVolumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
	flags.BoolVarP(&opts.RemoveLinks, "link", "l", false, "Remove the specified link")
	flags.BoolVarP(&opts.Force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	return cmd
}

func newWaitCommand(c *Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				wait := api.ContainerWait(ctx, name, client.ContainerWaitOptions{})
				select {
				case res := <-wait.Result:
					fmt.Fprintf(c.Out, "%d\n", res.StatusCode)
				case err := <-wait.Error:
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
}

func newRenameCommand(c *Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			oldName, newName := strings.TrimSpace(args[0]), strings.TrimSpace(args[1])
			if oldName == "" || newName == "" {
				return errors.New("Error: Neither old nor new names may be empty")
			}
			api, err := c.Client(cmd.Context())
			if err != nil {
				return err
			}
			if _, err := api.ContainerRename(cmd.Context(), oldName, client.ContainerRenameOptions{NewName: newName}); err != nil {
				fmt.Fprintln(c.Err, err)
				return fmt.Errorf("Error: failed to rename container named %s", oldName)
			}
			return nil
		},
	}
}

// errSkip marks an operation that failed without failing the command.
var errSkip = errors.New("skip")

// maxParallel bounds the concurrent API calls of one command, as docker's.
const maxParallel = 50

// eachContainer runs op for every name (concurrently when parallel) and
// prints each name that succeeded, in argument order, as docker does. The
// errors are returned together, one per line.
func (c *Cli) eachContainer(ctx context.Context, names []string, parallel bool, op func(context.Context, *client.Client, string) error) error {
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	results := make([]chan error, len(names))
	sem := make(chan struct{}, maxParallel)
	for i, name := range names {
		results[i] = make(chan error, 1)
		if !parallel {
			continue
		}
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			results[i] <- op(ctx, api, name)
		}()
	}
	var errs []error
	for i, name := range names {
		if !parallel {
			results[i] <- op(ctx, api, name)
		}
		switch err := <-results[i]; {
		case err == nil:
			fmt.Fprintln(c.Out, name)
		case errors.Is(err, errSkip):
		default:
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
