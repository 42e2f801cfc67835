package cli

import "github.com/spf13/cobra"

// ComposeProgram is Docker Compose built from its Go SDK with berthd as
// its default engine (cmd/berth-compose). Compose links gRPC,
// OpenTelemetry and BuildKit's client, so berth links none of it and
// `berth compose ...` execs this program, found beside berth's own
// executable, else in $PATH.
const ComposeProgram = "berth-compose"

// newComposeCommand is `berth compose`: every argument goes to
// ComposeProgram untouched (it parses them as `docker compose` does); the
// global -H travels as BERTH_HOST, --config as DOCKER_CONFIG and the TLS
// flags as DOCKER_TLS, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
func newComposeCommand(c *Cli) *cobra.Command {
	return &cobra.Command{
		Use:                "compose [OPTIONS] COMMAND",
		Short:              "Docker Compose",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			var env []string
			if dir := configDir(cmd); dir != "" {
				env = append(env, "DOCKER_CONFIG="+dir)
			}
			tlsEnv, err := c.tls.env(c.daemonHost())
			if err != nil {
				return err
			}
			env = append(env, tlsEnv...)
			return c.execProgram(cmd, ComposeProgram, "compose", args, env)
		},
	}
}
