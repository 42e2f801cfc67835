// Command berth-compose is Docker Compose, built from its own Go SDK
// (github.com/docker/compose/v5), with berthd as its default engine.
// `berth compose ...` execs it; installed as a docker CLI plugin
// (cli-plugins/docker-compose) it is `docker compose` too.
//
// It is a program of its own because Compose links gRPC, OpenTelemetry and
// BuildKit's client, whose package inits would slow every berth command.
package main

import (
	"os"

	dockercli "github.com/docker/cli/cli"
	"github.com/docker/cli/cli-plugins/metadata"
	"github.com/docker/cli/cli-plugins/plugin"
	"github.com/docker/cli/cli/command"
	"github.com/docker/compose/v5/cmd/cmdtrace"
	"github.com/docker/compose/v5/cmd/compatibility"
	commands "github.com/docker/compose/v5/cmd/compose"
	"github.com/docker/compose/v5/cmd/prompt"
	"github.com/docker/compose/v5/pkg/compose"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
)

// version is Compose's version, set by the Makefile from go.mod with
// -ldflags "-X main.version=...": Compose's own variable sits in an
// internal package of its module, which berth may not import (the linker
// sets it too).
var version = "dev"

func main() {
	if plugin.RunningStandalone() {
		if host, ok := engineHost(os.Args[1:], os.Getenv); ok {
			os.Setenv("DOCKER_HOST", host)
		}
		os.Args = append([]string{"docker"}, compatibility.Convert(os.Args[1:])...)
	}
	plugin.Run(newRootCommand, metadata.Metadata{
		SchemaVersion: "0.1.0",
		Vendor:        "Docker Inc.",
		Version:       version,
	}, command.WithUserAgent("compose/"+version))
}

// newRootCommand is Compose's root command as its own binary builds it.
func newRootCommand(cli command.Cli) *cobra.Command {
	backend := &commands.BackendOptions{
		Options: []compose.Option{compose.WithPrompt(prompt.NewPrompt(cli.In(), cli.Out()).Confirm)},
	}
	cmd := commands.RootCommand(cli, backend)
	cmd.AddCommand(commands.HooksCommand())
	preRun := cmd.PersistentPreRunE
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := plugin.PersistentPreRunE(cmd, args); err != nil {
			return err
		}
		if err := cmdtrace.Setup(cmd, cli, os.Args[1:]); err != nil {
			logrus.Debugf("failed to enable tracing: %v", err)
		}
		if preRun != nil {
			return preRun(cmd, args)
		}
		return nil
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return dockercli.StatusError{StatusCode: 1, Status: err.Error()}
	})
	return cmd
}
