package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Values of --pull.
const (
	pullAlways  = "always"
	pullMissing = "missing"
	pullNever   = "never"
)

// createOptions are the run/create flags that are not part of the container's
// configuration.
type createOptions struct {
	name     string
	platform string
	pull     string
	quiet    bool
	// configDir is the root --config flag: where pulls find credentials.
	configDir string
}

func addCreateOptions(flags *pflag.FlagSet, o *createOptions, verb string) {
	flags.StringVar(&o.name, "name", "", "Assign a name to the container")
	flags.StringVar(&o.pull, "pull", pullMissing, fmt.Sprintf(`Pull image before %s ("%s", "%s", "%s")`, verb, pullAlways, pullMissing, pullNever))
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress the pull output")
	flags.StringVar(&o.platform, "platform", os.Getenv("BERTH_DEFAULT_PLATFORM"), "Set platform if server is multi-platform capable")
	// An explicit --help without -h, which is --hostname here.
	flags.Bool("help", false, "Print usage")
	flags.Bool("disable-content-trust", true, "Skip image verification (deprecated)")
	_ = flags.MarkHidden("disable-content-trust")
}

func newCreateCommand(c *Cli) *cobra.Command {
	var opts createOptions
	var copts *containerOptions
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create a new container",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validatePull(opts.pull); err != nil {
				return StatusError{Status: withHelp(err, "create"), StatusCode: 125}
			}
			cfg, err := parse(cmd.Flags(), copts, args[0], args[1:])
			if err != nil {
				return StatusError{Status: withHelp(err, "create"), StatusCode: 125}
			}
			opts.configDir = configDir(cmd)
			id, err := createContainer(cmd.Context(), c, cfg, &opts)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.Out, id)
			return nil
		},
	}
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	addCreateOptions(flags, &opts, "creating")
	copts = addContainerFlags(flags)
	return cmd
}

// createContainer creates the container and returns its id, printing the
// daemon's warnings on stderr and writing --cidfile.
func createContainer(ctx context.Context, c *Cli, cfg *containerConfig, opts *createOptions) (string, error) {
	if _, err := reference.ParseAnyReference(cfg.Config.Image); err != nil {
		return "", err
	}
	var platform *ocispec.Platform
	if opts.platform != "" {
		p, err := parsePlatform(opts.platform)
		if err != nil {
			return "", err
		}
		platform = &p
	}
	cid, err := newCIDFile(cfg.HostConfig.ContainerIDFile)
	if err != nil {
		return "", err
	}
	defer cid.close()

	if cfg.Config.Tty {
		cfg.HostConfig.ConsoleSize[0], cfg.HostConfig.ConsoleSize[1] = ttySize(c.Out)
	}
	api, err := c.Client(ctx)
	if err != nil {
		return "", err
	}
	if opts.pull == pullAlways {
		if err := pullForCreate(ctx, c, opts, cfg.Config.Image); err != nil {
			return "", err
		}
	}
	create := func() (client.ContainerCreateResult, error) {
		return api.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:             opts.name,
			Platform:         platform,
			Config:           cfg.Config,
			HostConfig:       cfg.HostConfig,
			NetworkingConfig: cfg.NetworkingConfig,
		})
	}
	resp, err := create()
	if err != nil && cerrdefs.IsNotFound(err) && (opts.pull == pullMissing || opts.pull == "") {
		// Like docker: pull the missing image, then create again.
		fmt.Fprintf(c.Err, "Unable to find image '%s' locally\n", familiarImage(cfg.Config.Image))
		if perr := pullForCreate(ctx, c, opts, cfg.Config.Image); perr != nil {
			return "", perr
		}
		resp, err = create()
	}
	if err != nil {
		return "", err
	}
	for _, w := range resp.Warnings {
		fmt.Fprintln(c.Err, "WARNING:", w)
	}
	return resp.ID, cid.write(resp.ID)
}

func validatePull(v string) error {
	switch v {
	case pullAlways, pullMissing, pullNever, "":
		return nil
	}
	return fmt.Errorf("invalid pull option: '%s': must be one of %q, %q or %q", v, pullAlways, pullMissing, pullNever)
}

// parsePlatform reads "os[/arch[/variant]]".
func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) > 3 || parts[0] == "" {
		return ocispec.Platform{}, fmt.Errorf("error parsing specified platform: %q: unknown operating system or architecture", s)
	}
	p := ocispec.Platform{OS: parts[0]}
	if len(parts) > 1 {
		p.Architecture = parts[1]
	}
	if len(parts) > 2 {
		p.Variant = parts[2]
	}
	return p, nil
}

// withHelp decorates an error with docker's "--help" hint for run/create.
func withHelp(err error, command string) string {
	return fmt.Sprintf("berth: %s\n\nRun 'berth %s --help' for more information", err, command)
}

// cidFile is the --cidfile: created up front so a clash fails before the
// container exists, removed again when the create fails.
type cidFile struct {
	path    string
	file    *os.File
	written bool
}

func newCIDFile(path string) (*cidFile, error) {
	if path == "" {
		return &cidFile{}, nil
	}
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("container ID file found, make sure the other container isn't running or delete %s", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("failed to create the container ID file: %w", err)
	}
	return &cidFile{path: path, file: f}, nil
}

func (c *cidFile) write(id string) error {
	if c.file == nil {
		return nil
	}
	if _, err := c.file.WriteString(id); err != nil {
		return fmt.Errorf("failed to write the container ID to the file: %w", err)
	}
	c.written = true
	return nil
}

func (c *cidFile) close() {
	if c.file == nil {
		return
	}
	err := c.file.Close()
	if !c.written || err != nil {
		_ = os.Remove(c.path)
	}
}

// errNotTTY is docker's refusal to attach a TTY to a non-terminal stdin.
var errNotTTY = errors.New("the input device is not a TTY")
