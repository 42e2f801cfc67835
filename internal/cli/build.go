package cli

import "github.com/spf13/cobra"

// addBuildCommands adds build and image build.
func addBuildCommands(root *cobra.Command, c *Cli) {}
