package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
)

type pullOptions struct {
	platform string
	quiet    bool
	allTags  bool
}

// newPullCommand makes `pull` and `image pull`.
func newPullCommand(c *Cli) *cobra.Command {
	var opts pullOptions
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.allTags {
				return errors.New("--all-tags is not supported yet")
			}
			named, err := reference.ParseNormalizedNamed(args[0])
			if err != nil {
				return err
			}
			if reference.IsNameOnly(named) {
				named = reference.TagNameOnly(named)
				if !opts.quiet {
					fmt.Fprintln(c.Out, "Using default tag:", named.(reference.Tagged).Tag())
				}
			}
			out := c.Out
			if opts.quiet {
				out = io.Discard
			}
			if err := pullImage(cmd.Context(), c, configPath(cmd), named, opts.platform, out); err != nil {
				return err
			}
			fmt.Fprintln(c.Out, named.String())
			return nil
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&opts.allTags, "all-tags", "a", false, "Download all tagged images in the repository")
	flags.StringVar(&opts.platform, "platform", "", "Set platform if server is multi-platform capable")
	flags.BoolVarP(&opts.quiet, "quiet", "q", false, "Suppress verbose output")
	flags.Bool("disable-content-trust", true, "Skip image verification")
	return cmd
}

// pullImage pulls named with the stored credentials, rendering the
// daemon's progress on out (bars on a terminal, plain lines otherwise).
func pullImage(ctx context.Context, c *Cli, configFile string, named reference.Named, platform string, out io.Writer) error {
	auth, err := registryAuth(configFile, named)
	if err != nil {
		return err
	}
	opts := client.ImagePullOptions{RegistryAuth: auth}
	if platform != "" {
		p, err := parsePlatform(platform)
		if err != nil {
			return err
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	resp, err := api.ImagePull(ctx, named.String(), opts)
	if err != nil {
		return err
	}
	defer resp.Close()
	return imageProgress(resp, out)
}

// pullForCreate is run/create's pull of a missing image (or of any image
// with --pull always), its progress on stderr unless quiet, as docker does.
func pullForCreate(ctx context.Context, c *Cli, opts *createOptions, image string) error {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return err
	}
	named = reference.TagNameOnly(named)
	var out io.Writer = c.Err
	if opts.quiet {
		out = io.Discard
	}
	return pullImage(ctx, c, credentialsPath(opts.configDir), named, opts.platform, out)
}

// familiarImage is how docker names an image in "Unable to find image":
// short, with the default tag.
func familiarImage(image string) string {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return image
	}
	return reference.FamiliarString(reference.TagNameOnly(named))
}
