package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

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
// global --host and --config travel as BERTH_HOST and --config). With the
// process's own streams it replaces berth (no second process to wait on,
// signals go straight to it); otherwise it runs as a child.
func (c *Cli) execBuildProgram(cmd *cobra.Command, args []string) error {
	prog, err := findBuildProgram()
	if err != nil {
		return err
	}
	argv := []string{prog}
	if dir := configDir(cmd); dir != "" {
		argv = append(argv, "--config", dir)
	}
	path := strings.Fields(cmd.CommandPath())
	argv = append(argv, path[1:]...)
	argv = append(argv, args...)
	env := os.Environ()
	if c.host != "" {
		// -H wins over an inherited BERTH_HOST (a child's getenv takes the
		// first entry of a name)
		env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, hostEnv+"=") })
		env = append(env, hostEnv+"="+c.host)
	}
	if c.In == os.Stdin && c.Out == os.Stdout && c.Err == os.Stderr {
		return os.NewSyscallError("exec "+prog, syscall.Exec(prog, argv, env))
	}
	child := exec.CommandContext(cmd.Context(), prog, argv[1:]...)
	child.Env, child.Stdin, child.Stdout, child.Stderr = env, c.In, c.Out, c.Err
	child.Cancel = func() error { return child.Process.Signal(syscall.SIGTERM) }
	err = child.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return StatusError{StatusCode: 128 + int(ws.Signal())}
		}
		return StatusError{StatusCode: exit.ExitCode()}
	}
	return err
}

// findBuildProgram finds BuildProgram beside the running executable, else
// in $PATH.
func findBuildProgram() (string, error) {
	self, err := os.Executable()
	if err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		p := filepath.Join(filepath.Dir(self), BuildProgram)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(BuildProgram)
	if err != nil {
		return "", fmt.Errorf("%s is needed for build: not found beside %s nor in $PATH", BuildProgram, self)
	}
	return p, nil
}

// RegistryAuth is the X-Registry-Auth value for pushing named, from the
// credentials that `berth login` (or `docker login`) stored; cmd is the
// command whose root holds --config.
func RegistryAuth(cmd *cobra.Command, named reference.Named) (string, error) {
	return registryAuth(configPath(cmd), named)
}

// CredentialsPath is berth's config.json for cmd's root --config flag.
func CredentialsPath(cmd *cobra.Command) string { return configPath(cmd) }
