package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

type startOptions struct {
	attach     bool
	openStdin  bool
	detachKeys string
}

func newStartCommand(c *Cli) *cobra.Command {
	var opts startOptions
	cmd := &cobra.Command{
		Use:   "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.attach || opts.openStdin {
				if len(args) > 1 {
					return errors.New("you cannot start and attach multiple containers at once")
				}
				return startAttached(cmd.Context(), c, args[0], &opts)
			}
			return startContainers(cmd.Context(), c, args)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&opts.attach, "attach", "a", false, "Attach STDOUT/STDERR and forward signals")
	flags.BoolVarP(&opts.openStdin, "interactive", "i", false, "Attach container's STDIN")
	flags.StringVar(&opts.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

// startContainers starts each container, printing its name as given; the
// failures are printed as they happen and summed up at the end, as docker.
func startContainers(ctx context.Context, c *Cli, names []string) error {
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	var failed []string
	for _, name := range names {
		if _, err := api.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil {
			fmt.Fprintln(c.Err, err)
			failed = append(failed, name)
			continue
		}
		fmt.Fprintln(c.Out, name)
	}
	if len(failed) > 0 {
		return fmt.Errorf("Error: failed to start containers: %s", strings.Join(failed, ", "))
	}
	return nil
}

// startAttached is start -a/-i: attach, start, then wait like run does.
func startAttached(ctx context.Context, c *Cli, name string, opts *startOptions) error {
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	ctr := res.Container
	if ctr.Config == nil {
		ctr.Config = &container.Config{}
	}
	autoRemove := ctr.HostConfig != nil && ctr.HostConfig.AutoRemove
	if !ctr.Config.Tty {
		defer forwardSignals(context.WithoutCancel(ctx), api, ctr.ID)()
	}
	aopts := client.ContainerAttachOptions{
		Stream:     true,
		Stdin:      opts.openStdin && ctr.Config.OpenStdin,
		Stdout:     true,
		Stderr:     true,
		DetachKeys: opts.detachKeys,
	}
	if err := checkTTY(c.In, aopts.Stdin, ctr.Config.Tty); err != nil {
		return err
	}
	resp, err := api.ContainerAttach(ctx, ctr.ID, aopts)
	if err != nil {
		return err
	}
	defer resp.Close()
	s := &streamer{out: c.Out, errOut: c.Err, resp: resp.HijackedResponse, tty: ctr.Config.Tty, detachKeys: opts.detachKeys}
	if aopts.Stdin {
		s.in = c.In
	}
	streamDone := make(chan error, 1)
	go func() { streamDone <- s.stream(ctx) }()

	cond := container.WaitConditionNextExit
	if autoRemove {
		cond = container.WaitConditionRemoved
	}
	status := waitExit(ctx, api, ctr.ID, cond)
	if _, err := api.ContainerStart(ctx, ctr.ID, client.ContainerStartOptions{}); err != nil {
		cancel()
		<-streamDone
		if autoRemove {
			awaitRemoval(status)
		}
		return err
	}
	if ctr.Config.Tty && isTerminal(c.Out) {
		monitorTTYSize(ctx, c, api, ctr.ID)
	}
	if err := <-streamDone; err != nil {
		if isEscape(err) {
			return nil
		}
		return err
	}
	if s.detached() {
		return nil
	}
	return c.exitError(<-status)
}
