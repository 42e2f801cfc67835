package cli

import (
	"context"
	"errors"
	"os"

	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

type execOptions struct {
	detach, interactive, tty, privileged bool
	detachKeys, user, workdir            string
	env, envFile                         listOpt
}

func newExecCommand(c *Cli) *cobra.Command {
	opts := execOptions{}
	opts.env.validate = validateEnv
	cmd := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Args:  requiresMinArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd.Context(), c, args[0], args[1:], &opts)
		},
	}
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.BoolVarP(&opts.detach, "detach", "d", false, "Detached mode: run command in the background")
	flags.StringVar(&opts.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	flags.VarP(&opts.env, "env", "e", "Set environment variables")
	flags.Var(&opts.envFile, "env-file", "Read in a file of environment variables")
	flags.BoolVarP(&opts.interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	flags.BoolVar(&opts.privileged, "privileged", false, "Give extended privileges to the command")
	flags.BoolVarP(&opts.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	flags.StringVarP(&opts.user, "user", "u", "", `Username or UID (format: "<name|uid>[:<group|gid>]")`)
	flags.StringVarP(&opts.workdir, "workdir", "w", "", "Working directory inside the container")
	return cmd
}

// runExec is docker's: create the exec, start it detached or attached, and
// exit with the process's exit code, read from the exec's inspect.
func runExec(ctx context.Context, c *Cli, container string, command []string, opts *execOptions) error {
	env, err := readKVFiles(opts.envFile.values, opts.env.values, os.LookupEnv)
	if err != nil {
		return err
	}
	create := client.ExecCreateOptions{
		User:       opts.user,
		Privileged: opts.privileged,
		TTY:        opts.tty,
		DetachKeys: opts.detachKeys,
		Env:        env,
		WorkingDir: opts.workdir,
		Cmd:        command,
	}
	if !opts.detach {
		create.AttachStdin, create.AttachStdout, create.AttachStderr = opts.interactive, true, true
		if err := checkTTY(c.In, opts.interactive, opts.tty); err != nil {
			return err
		}
		if opts.tty && isTerminal(c.Out) {
			h, w := ttySize(c.Out)
			create.ConsoleSize = client.ConsoleSize{Height: h, Width: w}
		}
	}
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	ex, err := api.ExecCreate(ctx, container, create)
	if err != nil {
		return err
	}
	if opts.detach {
		_, err := api.ExecStart(ctx, ex.ID, client.ExecStartOptions{Detach: true, TTY: opts.tty})
		return err
	}
	resp, err := api.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{TTY: opts.tty, ConsoleSize: create.ConsoleSize})
	if err != nil {
		return err
	}
	defer resp.Close()
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.tty && isTerminal(c.Out) {
		monitorSize(streamCtx, c, func(height, width uint) error {
			_, err := api.ExecResize(streamCtx, ex.ID, client.ExecResizeOptions{Height: height, Width: width})
			return err
		})
	}
	s := &streamer{out: c.Out, errOut: c.Err, resp: resp.HijackedResponse, tty: opts.tty, detachKeys: opts.detachKeys}
	if opts.interactive {
		s.in = c.In
	}
	if err := s.stream(streamCtx); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		// docker prints "read escape sequence" after a detach, and exits 1
		return err
	}
	insp, err := api.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return err
	}
	if insp.ExitCode != 0 {
		return StatusError{StatusCode: insp.ExitCode}
	}
	return nil
}
