package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// newPushCommand makes `push` and `image push`.
func newPushCommand(c *Cli) *cobra.Command {
	var (
		allTags, quiet bool
		platform       string
	)
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if platform != "" {
				return errors.New("--platform is not supported yet")
			}
			named, err := reference.ParseNormalizedNamed(args[0])
			if err != nil {
				return err
			}
			if allTags {
				if _, tagged := named.(reference.Tagged); tagged {
					return fmt.Errorf("tag can't be used with --all-tags/-a")
				}
			} else {
				named = reference.TagNameOnly(named)
			}
			ctx := cmd.Context()
			auth, err := registryAuth(configPath(cmd), named)
			if err != nil {
				return err
			}
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			resp, err := api.ImagePush(ctx, named.String(), client.ImagePushOptions{All: allTags, RegistryAuth: auth})
			if err != nil {
				return err
			}
			defer resp.Close()
			out := c.Out
			if quiet {
				out = io.Discard
			}
			if err := imageProgress(resp, out); err != nil {
				return err
			}
			if quiet {
				fmt.Fprintln(c.Out, named.String())
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&allTags, "all-tags", "a", false, "Push all tags of an image to the repository")
	flags.BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	flags.StringVar(&platform, "platform", "", "Push a platform-specific manifest as a single-platform image to the registry")
	flags.Bool("disable-content-trust", true, "Skip image signing")
	return cmd
}
