package cli

import (
	"strings"

	"github.com/distribution/reference"
	"github.com/spf13/cobra"
)

// BuildProgram is the program that holds the build commands: BuildKit's
// client, gRPC and OpenTelemetry would make every berth command start
// slower, so berth links none of them and execs this program, found beside
// berth's own executable (else in $PATH), for `build`, `image build` and
// `builder build`.
const BuildProgram = "berth-build"

// NewBuildCommand, when set (cmd/berth-build sets it), makes the build
// command that runs in process. When nil, the build commands are stubs that
// exec BuildProgram with the same arguments.
var NewBuildCommand func(c *Cli) *cobra.Command

// buildShort is the build commands' one-line help.
const buildShort = "Build an image from a Dockerfile"

// addBuildCommands adds build and image build (the builder group adds
// its own with newBuilderBuildCommand).
func addBuildCommands(root *cobra.Command, c *Cli) {
	root.AddCommand(newBuildCommandFor(c))
	for _, group := range root.Commands() {
		if group.Name() == "image" {
			group.AddCommand(newBuildCommandFor(c))
		}
	}
}

// newBuilderBuildCommand makes `builder build`, for the builder group.
func newBuilderBuildCommand(c *Cli) *cobra.Command { return newBuildCommandFor(c) }

// newBuildCommandFor makes one build command: the real one in berth-build,
// else a stub that execs berth-build.
func newBuildCommandFor(c *Cli) *cobra.Command {
	if NewBuildCommand != nil {
		return NewBuildCommand(c)
	}
	return &cobra.Command{
		Use:                "build [OPTIONS] PATH | URL | -",
		Short:              buildShort,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.execBuildProgram(cmd, args)
		},
	}
}

// execBuildProgram runs BuildProgram with the command's path and args (the
// global --host and --config travel as BERTH_HOST and --config).
func (c *Cli) execBuildProgram(cmd *cobra.Command, args []string) error {
	var argv []string
	if dir := configDir(cmd); dir != "" {
		argv = append(argv, "--config", dir)
	}
	argv = append(argv, c.tls.args()...)
	path := strings.Fields(cmd.CommandPath())
	argv = append(argv, path[1:]...)
	argv = append(argv, args...)
	return c.execProgram(cmd, BuildProgram, "build", argv, nil)
}

// RegistryAuth is the X-Registry-Auth value for pushing named, from the
// credentials that `berth login` (or `docker login`) stored; cmd is the
// command whose root holds --config.
func RegistryAuth(cmd *cobra.Command, named reference.Named) (string, error) {
	return registryAuth(configPath(cmd), named)
}

// CredentialsPath is berth's config.json for cmd's root --config flag.
func CredentialsPath(cmd *cobra.Command) string { return configPath(cmd) }
