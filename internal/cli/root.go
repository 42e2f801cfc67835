// Package cli implements berth, the command-line client of the berth engine.
// It is a thin client over the Docker Engine API (github.com/moby/moby/client):
// every command parses its flags, calls the API and formats the answer, with
// docker's flags, messages and exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/trace"
)

// Version and GitCommit identify the build; the Makefile sets them with
// -ldflags "-X github.com/berth-project/berth/internal/cli.Version=...".
var (
	Version   = "0.1.0"
	GitCommit = "unknown"
)

// DefaultHost is the daemon address used when neither -H nor BERTH_HOST is set.
const DefaultHost = "unix:///run/berth/berth.sock"

// hostEnv names the environment variable that overrides DefaultHost.
const hostEnv = "BERTH_HOST"

// Cli holds the streams and a lazily created API client.
type Cli struct {
	In       io.ReadCloser
	Out, Err io.Writer

	host       string
	tls        tlsOptions
	clientOnce sync.Once
	client     *client.Client
	clientErr  error
	trace      *trace.Trace // BERTH_TRACE's (trace.go), else nil
}

// Client returns the API client for the daemon chosen with -H/--host, else
// $BERTH_HOST, else DefaultHost, over TLS when the TLS flags or variables
// ask for it (see tlsOptions). It is created on first use; the API version
// is negotiated with the daemon on the first request.
func (c *Cli) Client(ctx context.Context) (*client.Client, error) {
	c.clientOnce.Do(func() {
		host := c.daemonHost()
		opts, err := c.tls.clientOpts(host)
		if err != nil {
			c.clientErr = err
			return
		}
		opts = append(opts, client.WithHost(host), client.WithUserAgent("berth/"+Version))
		opts = append(opts, c.traceOpts()...)
		c.client, c.clientErr = client.New(opts...)
	})
	return c.client, c.clientErr
}

// daemonHost is -H, else $BERTH_HOST, else DefaultHost.
func (c *Cli) daemonHost() string {
	if c.host != "" {
		return c.host
	}
	if h := os.Getenv(hostEnv); h != "" {
		return h
	}
	return DefaultHost
}

// StatusError carries an exit code through cobra. Status, when not empty, is
// printed on stderr before exiting with StatusCode.
type StatusError struct {
	Status     string
	StatusCode int
}

// Error returns Status, or a generic text for a bare exit code.
func (e StatusError) Error() string {
	if e.Status != "" {
		return e.Status
	}
	return fmt.Sprintf("exit status %d", e.StatusCode)
}

// Execute runs berth with args (without the program name) and returns the
// process exit code.
func Execute(ctx context.Context, args []string, in io.ReadCloser, out, errw io.Writer) int {
	if VersionOnly(args) {
		// what cobra prints for the flag, without building some hundred
		// commands and their flags first
		fmt.Fprint(out, VersionLine())
		return 0
	}
	c := &Cli{In: in, Out: out, Err: errw, trace: startTrace(errw)}
	root := newRootCommand(c)
	if name, ok := unknownCommand(root, args); ok {
		// Checked before parsing, so that `berth nosuch -it` names the
		// command instead of complaining about flags nobody defined.
		return exitCode(ctx, errw, errUnknownCommand(root, name))
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if c.client != nil {
		_ = c.client.Close()
	}
	return exitCode(ctx, errw, err)
}

// VersionOnly reports whether args (without the program name) are a lone
// --version or -v, which prints VersionLine and nothing else.
func VersionOnly(args []string) bool {
	return len(args) == 1 && (args[0] == "--version" || args[0] == "-v")
}

// VersionLine is what --version prints: "Berth version 0.1.0, build abcdef\n".
func VersionLine() string { return "Berth version " + versionString() + "\n" }

// versionString is --version's "0.1.0, build abcdef".
func versionString() string { return Version + ", build " + GitCommit }

// exitCode prints err like docker does and returns the exit code for it:
// a StatusError's code, 128+signal when a termination signal cancelled the
// run, else 1 (docker's rule: only run/create/start failures use 125-127).
func exitCode(ctx context.Context, errw io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var se StatusError
	if errors.As(err, &se) {
		if se.Status != "" {
			fmt.Fprintln(errw, se.Status)
		}
		if se.StatusCode == 0 {
			return 1
		}
		return se.StatusCode
	}
	if ctx.Err() != nil && (cerrdefs.IsCanceled(err) || errors.Is(err, context.Canceled)) {
		return signalExitCode(ctx)
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(errw, msg)
	}
	return 1
}

// signalExitCode maps the cause of a signal.NotifyContext cancellation to
// 128+signal, as a shell reports a process killed by that signal.
func signalExitCode(ctx context.Context) int {
	cause := context.Cause(ctx)
	if cause == nil {
		return 1
	}
	for _, s := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		if strings.HasPrefix(cause.Error(), s.String()+" signal") {
			return 128 + int(s)
		}
	}
	return 1
}

func newRootCommand(c *Cli) *cobra.Command {
	var logLevel string
	var debug bool
	root := &cobra.Command{
		Use:              "berth [OPTIONS] COMMAND [ARG...]",
		Short:            "A self-sufficient runtime for containers",
		SilenceUsage:     true,
		SilenceErrors:    true,
		TraverseChildren: true,
		Version:          versionString(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				cmd.SetOut(c.Out)
				return cmd.Help()
			}
			return errUnknownCommand(cmd, args[0])
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	root.SetIn(c.In)
	root.SetOut(c.Out)
	root.SetErr(c.Err)
	root.SetVersionTemplate("Berth version {{.Version}}\n")
	root.SetUsageTemplate(usageTemplate)
	root.SetHelpTemplate(helpTemplate)
	root.SetFlagErrorFunc(flagErrorFunc)

	pf := root.PersistentFlags()
	pf.BoolP("help", "h", false, "Print usage")
	_ = pf.MarkShorthandDeprecated("help", "use --help")
	pf.Lookup("help").Hidden = true

	flags := root.Flags()
	flags.StringVarP(&c.host, "host", "H", "", "Daemon socket to connect to")
	flags.StringVarP(&logLevel, "log-level", "l", "info", `Set the logging level ("debug", "info", "warn", "error", "fatal")`)
	flags.BoolVarP(&debug, "debug", "D", false, "Enable debug mode")
	flags.String("config", "", "Location of client config files")
	flags.BoolP("version", "v", false, "Print version information and quit")
	c.tls.addFlags(flags)

	root.AddCommand(
		newRunCommand(c),
		newCreateCommand(c),
		newStartCommand(c),
		newStopCommand(c),
		newRestartCommand(c),
		newKillCommand(c),
		newWaitCommand(c),
		newRmCommand(c),
		newRenameCommand(c),
		newAttachCommand(c),
		newExecCommand(c),
		newLogsCommand(c),
		newPsCommand(c),
		newContainerCommand(c),
		newCommitCommand(c),
		newCpCommand(c),
		newDiffCommand(c),
		newExportCommand(c),
		newEventsCommand(c),
	)
	root.AddCommand(newLoginCommand(c), newLogoutCommand(c))
	addImageCommands(root, c)
	addInspectCommand(root, c)
	addSystemCommands(root, c)
	addBuildCommands(root, c)
	root.AddCommand(newComposeCommand(c))
	addBuilderCommands(root, c)
	addNetworkCommands(root, c)
	addVolumeCommands(root, c)
	addRunOpsCommands(root, c)
	disableFlagsInUseLine(root)
	return root
}

// errUnknownCommand is docker's message for a command it does not have.
func errUnknownCommand(root *cobra.Command, name string) error {
	return fmt.Errorf("%[1]s: unknown command: %[1]s %[2]s\n\nRun '%[1]s --help' for more information", root.Name(), name)
}

// unknownCommand returns the command word of args (the first argument that
// is neither a global flag nor its value) when root has no such command.
func unknownCommand(root *cobra.Command, args []string) (string, bool) {
	// the commands cobra adds itself when it executes
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd(args...)
	flags := root.Flags()
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return "", false
		case strings.HasPrefix(arg, "--"):
			name, _, hasValue := strings.Cut(arg[2:], "=")
			if f := flags.Lookup(name); f != nil && !hasValue && f.NoOptDefVal == "" {
				i++ // the flag's value
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1:
			// a cluster of shorthands: only the last may take the next argument
			last := arg[len(arg)-1:]
			if f := flags.ShorthandLookup(last); f != nil && len(arg) == 2 && f.NoOptDefVal == "" {
				i++
			}
		default:
			if arg == cobra.ShellCompRequestCmd || arg == cobra.ShellCompNoDescRequestCmd {
				return "", false
			}
			for _, cmd := range root.Commands() {
				if cmd.Name() == arg || cmd.HasAlias(arg) {
					return "", false
				}
			}
			return arg, true
		}
	}
	return "", false
}

// newContainerCommand is docker's `container` management command, holding
// the same container commands under their long names (`container ls`, ...).
func newContainerCommand(c *Cli) *cobra.Command {
	cmd := newGroupCommand(c, "container", "Manage containers")
	ls := newPsCommand(c)
	ls.Use = "ls [OPTIONS]"
	ls.Aliases = []string{"ps", "list"}
	cmd.AddCommand(
		newAttachCommand(c),
		newCommitCommand(c),
		newCpCommand(c),
		newCreateCommand(c),
		newDiffCommand(c),
		newExecCommand(c),
		newExportCommand(c),
		newContainerInspectCommand(c),
		newKillCommand(c),
		newLogsCommand(c),
		ls,
		newPortCommand(c),
		newRenameCommand(c),
		newRestartCommand(c),
		newRmCommand(c),
		newRunCommand(c),
		newStartCommand(c),
		newStopCommand(c),
		newWaitCommand(c),
		newContainerPruneCommand(c),
	)
	addRunOpsCommands(cmd, c)
	return cmd
}

// disableFlagsInUseLine keeps cobra from appending "[flags]" to usage lines:
// docker's Use strings already say [OPTIONS].
func disableFlagsInUseLine(cmd *cobra.Command) {
	cmd.DisableFlagsInUseLine = true
	for _, sub := range cmd.Commands() {
		disableFlagsInUseLine(sub)
	}
}

// flagErrorFunc formats flag parsing errors as docker does, exit status 125.
func flagErrorFunc(cmd *cobra.Command, err error) error {
	return StatusError{
		Status:     fmt.Sprintf("%s\n\nUsage:  %s\n\nRun '%s --help' for more information", err, cmd.UseLine(), cmd.CommandPath()),
		StatusCode: 125,
	}
}

// newGroupCommand makes a management command (`volume`, `network`, ...):
// it takes no arguments of its own and, run alone, prints its help on the
// CLI's output.
func newGroupCommand(c *Cli, use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(c.Out)
			return cmd.Help()
		},
	}
}

// noArgs rejects positional arguments with docker's message.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return fmt.Errorf("%[1]s: unknown command: %[2]s %[3]s\n\nUsage:  %[4]s\n\nRun '%[2]s --help' for more information",
			cmd.Root().Name(), cmd.CommandPath(), args[0], cmd.UseLine())
	}
	return fmt.Errorf("%[1]s: '%[2]s' accepts no arguments\n\nUsage:  %[3]s\n\nRun '%[2]s --help' for more information",
		cmd.Root().Name(), cmd.CommandPath(), cmd.UseLine())
}

// requiresMinArgs checks the argument count with docker's message.
func requiresMinArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= n {
			return nil
		}
		return fmt.Errorf("%[1]s: '%[2]s' requires at least %[3]d %[4]s\n\nUsage:  %[5]s\n\nSee '%[2]s --help' for more information",
			cmd.Root().Name(), cmd.CommandPath(), n, pluralize("argument", n), cmd.UseLine())
	}
}

// exactArgs checks the argument count with docker's message.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		return fmt.Errorf("%[1]s: '%[2]s' requires %[3]d %[4]s\n\nUsage:  %[5]s\n\nRun '%[2]s --help' for more information",
			cmd.Root().Name(), cmd.CommandPath(), n, pluralize("argument", n), cmd.UseLine())
	}
}

func pluralize(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

const usageTemplate = `Usage:
{{- if not .HasAvailableSubCommands}}  {{.UseLine}}{{end}}
{{- if .HasAvailableSubCommands}}  {{.CommandPath}}{{if .HasAvailableFlags}} [OPTIONS]{{end}} COMMAND{{end}}

{{if ne .Long ""}}{{.Long | trim}}{{else}}{{.Short | trim}}{{end}}
{{- if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}
{{- end}}
{{- if .HasAvailableSubCommands}}

Commands:
{{- range .Commands}}{{if .IsAvailableCommand}}
  {{rpad .Name .NamePadding}} {{.Short}}
{{- end}}{{end}}
{{- end}}
{{- if .HasAvailableLocalFlags}}

Options:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}
{{- end}}
{{- if .HasAvailableSubCommands}}

Run '{{.CommandPath}} COMMAND --help' for more information on a command.
{{- end}}
`

const helpTemplate = `
{{if or .Runnable .HasSubCommands}}{{.UsageString}}{{end}}`
