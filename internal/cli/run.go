package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

type runOptions struct {
	createOptions
	detach     bool
	sigProxy   bool
	detachKeys string
}

func newRunCommand(c *Cli) *cobra.Command {
	var opts runOptions
	var copts *containerOptions
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validatePull(opts.pull); err != nil {
				return StatusError{Status: withHelp(err, "run"), StatusCode: 125}
			}
			cfg, err := parse(cmd.Flags(), copts, args[0], args[1:])
			if err != nil {
				return StatusError{Status: withHelp(err, "run"), StatusCode: 125}
			}
			opts.configDir = configDir(cmd)
			return runContainer(cmd.Context(), c, &opts, len(copts.attach.values) > 0, cfg)
		},
	}
	flags := cmd.Flags()
	// Flags after the image name belong to the container's command.
	flags.SetInterspersed(false)
	flags.BoolVarP(&opts.detach, "detach", "d", false, "Run container in background and print container ID")
	flags.BoolVar(&opts.sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	flags.StringVar(&opts.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	addCreateOptions(flags, &opts.createOptions, "running")
	copts = addContainerFlags(flags)
	return cmd
}

// runContainer is docker run: create, attach (unless detached), start, then
// wait for the exit code, which becomes berth's.
func runContainer(ctx context.Context, c *Cli, opts *runOptions, attachFlag bool, cfg *containerConfig) error {
	config := cfg.Config
	if !opts.detach {
		if err := checkTTY(c.In, config.AttachStdin, config.Tty); err != nil {
			return err
		}
	} else {
		if attachFlag {
			return errors.New("conflicting options: cannot specify both --attach and --detach")
		}
		config.AttachStdin, config.AttachStdout, config.AttachStderr = false, false, false
		config.StdinOnce = false
	}

	tr := c.trace
	step := time.Now()
	tr.Span("cli ready (flags parsed)", step, step)
	if tr != nil {
		_, _ = c.Client(ctx) // made once: its cost shown apart from the create's
		tr.Step("cli client", step)
		step = time.Now()
	}
	id, err := createContainer(ctx, c, cfg, &opts.createOptions)
	if err != nil {
		return toStatusError(err)
	}
	tr.Step("cli create", step)
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	if opts.sigProxy {
		defer forwardSignals(context.WithoutCancel(ctx), api, id)()
	}

	// Once the container runs, berth stays until it exits (or the user
	// detaches): termination signals reach the container through the proxy,
	// not by cutting the stream.
	streamCtx, cancelStream := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStream()

	attach := config.AttachStdin || config.AttachStdout || config.AttachStderr
	var streamDone chan error
	var s *streamer
	if attach {
		step := time.Now()
		resp, err := api.ContainerAttach(streamCtx, id, client.ContainerAttachOptions{
			Stream:     true,
			Stdin:      config.AttachStdin,
			Stdout:     config.AttachStdout,
			Stderr:     config.AttachStderr,
			DetachKeys: opts.detachKeys,
		})
		if err != nil {
			return err
		}
		tr.Step("cli attach (upgraded)", step)
		defer resp.Close()
		s = &streamer{tty: config.Tty, detachKeys: opts.detachKeys, resp: resp.HijackedResponse}
		if config.AttachStdin {
			s.in = c.In
		}
		if config.AttachStdout {
			s.out = c.Out
		}
		if config.AttachStderr {
			s.errOut = c.Err
			if config.Tty {
				s.errOut = c.Out
			}
		}
		streamDone = make(chan error, 1)
		go func() { streamDone <- s.stream(streamCtx) }()
	}

	statusCtx, cancelStatus := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStatus()
	cond := container.WaitConditionNextExit
	if cfg.HostConfig.AutoRemove {
		cond = container.WaitConditionRemoved
	}
	status := waitExit(statusCtx, api, id, cond)

	step = time.Now()
	_, err = api.ContainerStart(streamCtx, id, client.ContainerStartOptions{})
	tr.Step("cli start", step)
	if err != nil {
		if attach {
			// Let the streamer restore the terminal before berth prints.
			cancelStream()
			<-streamDone
		}
		if cfg.HostConfig.AutoRemove {
			awaitRemoval(status)
		}
		return toStatusError(err)
	}

	if !attach {
		fmt.Fprintln(c.Out, id)
		return nil
	}
	if config.Tty && isTerminal(c.Out) {
		monitorTTYSize(streamCtx, c, api, id)
	}

	select {
	case err := <-streamDone:
		if isEscape(err) {
			return nil
		}
		if err != nil {
			return err
		}
		// The daemon also ends the stream when it sees the detach keys: the
		// container runs on and berth exits 0 quietly, like docker.
		if s.detached() {
			return nil
		}
		tr.Step("cli output drained", step)
		res := <-status
		tr.Step("cli wait (until the exit, or the removal with --rm)", step)
		return c.exitError(res)
	case res := <-status:
		tr.Step("cli wait (until the exit, or the removal with --rm)", step)
		// Output may still be in flight: drain it, unless only stdin was attached.
		if !config.AttachStdout && !config.AttachStderr {
			cancelStream()
		}
		<-streamDone
		tr.Step("cli output drained", step)
		return c.exitError(res)
	}
}

// exitError turns a container's exit into berth's: its code, or 125 when
// waiting failed.
func (c *Cli) exitError(res exitResult) error {
	if res.err != nil {
		fmt.Fprintf(c.Err, "Error waiting for container: %v\n", res.err)
	}
	if res.code != 0 {
		return StatusError{StatusCode: res.code}
	}
	return nil
}

// removalWait bounds how long berth waits for the daemon to remove a --rm
// container whose start failed: docker waits forever, which turns a daemon
// that keeps the container into a hung client.
const removalWait = 5 * time.Second

func awaitRemoval(status <-chan exitResult) {
	t := time.NewTimer(removalWait)
	defer t.Stop()
	select {
	case <-status:
	case <-t.C:
	}
}

// toStatusError gives a failed create or start docker's exit code: 127 when
// the command was not found, 126 when it could not be invoked, else 125.
func toStatusError(err error) error {
	msg := err.Error()
	code := 125
	switch {
	case strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory"):
		code = 127
	case strings.Contains(msg, "permission denied") || strings.Contains(msg, "is a directory"):
		code = 126
	}
	return StatusError{Status: withHelp(err, "run"), StatusCode: code}
}
