package cli

import "github.com/spf13/cobra"

// addBuilderCommands adds the builder group (prune).
func addBuilderCommands(root *cobra.Command, c *Cli) {}
