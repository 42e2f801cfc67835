package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/atomicfile"
	"github.com/berth-project/berth/internal/cli/format"
)

// addImageCommands registers the image commands: the top-level images, rmi,
// tag, history, import, save and load, and the `image` group with ls, rm,
// tag, history, import, save, load and inspect.
func addImageCommands(root *cobra.Command, c *Cli) {
	root.AddCommand(
		newImagesCommand(c),
		newRmiCommand(c),
		newTagCommand(c),
		newHistoryCommand(c),
		newImportCommand(c),
		newSaveCommand(c),
		newLoadCommand(c),
		newPullCommand(c),
		newPushCommand(c),
	)

	group := &cobra.Command{
		Use:   "image",
		Short: "Manage images",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%[1]s: unknown command: %[2]s %[3]s\n\nUsage:  %[2]s\n\nRun '%[2]s --help' for more information",
					cmd.Root().Name(), cmd.CommandPath(), args[0])
			}
			cmd.SetOut(c.Out)
			return cmd.Help()
		},
	}
	ls := newImagesCommand(c)
	ls.Use = "ls [OPTIONS] [REPOSITORY[:TAG]]"
	ls.Aliases = []string{"list"}
	rm := newRmiCommand(c)
	rm.Use = "rm [OPTIONS] IMAGE [IMAGE...]"
	rm.Aliases = []string{"rmi", "remove"}
	group.AddCommand(ls, rm,
		newTagCommand(c),
		newHistoryCommand(c),
		newImportCommand(c),
		newSaveCommand(c),
		newLoadCommand(c),
		newImageInspectCommand(c),
		newPullCommand(c),
		newPushCommand(c),
		newImagePruneCommand(c),
	)
	root.AddCommand(group)
}

// newImagesCommand makes `images` (and, renamed, `image ls`).
func newImagesCommand(c *Cli) *cobra.Command {
	var (
		quiet, all, noTrunc, digests bool
		formatFlag                   string
		filters                      = apiFilters{}
	)
	cmd := &cobra.Command{
		Use:   "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images",
		Args:  atMostArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			query := client.Filters(filters).Clone()
			var match string
			if len(args) > 0 {
				match = args[0]
				query.Add("reference", match)
			}
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			res, err := api.ImageList(ctx, client.ImageListOptions{All: all, Filters: query})
			if err != nil {
				return err
			}
			f := format.ImageFormat(formatFlag, quiet, digests)
			rows := format.ImageRows(res.Items, format.ImageOptions{
				Trunc:   !noTrunc,
				Digests: digests || strings.Contains(string(f), "{{.Digest}}"),
				Now:     time.Now(),
			})
			if err := format.Write(c.Out, f, rows, format.ImageHeader()); err != nil {
				return err
			}
			if len(res.Items) == 0 && match != "" && cmd.CalledAs() == "images" {
				printImagesHint(c.Err, match)
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	flags.BoolVarP(&all, "all", "a", false, "Show all images (default hides intermediate images)")
	flags.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	flags.BoolVar(&digests, "digests", false, "Show digests")
	flags.StringVar(&formatFlag, "format", "", listFormatHelp)
	flags.VarP(filters, "filter", "f", "Filter output based on conditions provided")
	return cmd
}

// listFormatHelp is docker's --format help text for list commands.
const listFormatHelp = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`

// printImagesHint helps a user who typed `images ls` meaning `image ls`.
func printImagesHint(w io.Writer, match string) {
	switch match {
	case "build", "history", "import", "inspect", "list", "load", "ls", "prune", "pull", "push", "rm", "save", "tag":
		fmt.Fprintf(w, "\nNo images found matching %q: did you mean \"berth image %[1]s\"?\n", match)
	}
}

// newRmiCommand makes `rmi` (and, renamed, `image rm`).
func newRmiCommand(c *Cli) *cobra.Command {
	var force, noPrune bool
	cmd := &cobra.Command{
		Use:   "rmi [OPTIONS] IMAGE [IMAGE...]",
		Short: "Remove one or more images",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			opts := client.ImageRemoveOptions{Force: force, PruneChildren: !noPrune}
			// Like docker: go on after a failure, report every failure at the
			// end; with -f, images that do not exist are only a warning.
			var errs []error
			fatal := false
			for _, name := range args {
				res, err := api.ImageRemove(ctx, name, opts)
				if err != nil {
					fatal = fatal || !cerrdefs.IsNotFound(err)
					errs = append(errs, err)
					continue
				}
				for _, d := range res.Items {
					if d.Deleted != "" {
						fmt.Fprintln(c.Out, "Deleted:", d.Deleted)
					} else {
						fmt.Fprintln(c.Out, "Untagged:", d.Untagged)
					}
				}
			}
			err = errors.Join(errs...)
			if err != nil && force && !fatal {
				fmt.Fprintln(c.Err, err)
				return nil
			}
			return err
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&force, "force", "f", false, "Force removal of the image")
	flags.BoolVar(&noPrune, "no-prune", false, "Do not delete untagged parents")
	return cmd
}

// newTagCommand makes `tag` and `image tag`.
func newTagCommand(c *Cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The client checks these too, but words its errors differently
			// from docker's CLI.
			if _, err := reference.ParseAnyReference(args[0]); err != nil {
				return fmt.Errorf("Error parsing reference: %q is not a valid repository/tag: %w", args[0], err) //nolint:staticcheck // docker's message
			}
			if _, err := reference.ParseNormalizedNamed(args[1]); err != nil {
				return fmt.Errorf("Error parsing reference: %q is not a valid repository/tag: %w", args[1], err) //nolint:staticcheck // docker's message
			}
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			_, err = api.ImageTag(ctx, client.ImageTagOptions{Source: args[0], Target: args[1]})
			return err
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// newHistoryCommand makes `history` and `image history`.
func newHistoryCommand(c *Cli) *cobra.Command {
	var (
		human, quiet, noTrunc bool
		formatFlag            string
	)
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			res, err := api.ImageHistory(ctx, args[0])
			if err != nil {
				return err
			}
			rows := format.HistoryRows(res.Items, format.HistoryOptions{Trunc: !noTrunc, Human: human, Now: time.Now()})
			return format.Write(c.Out, format.HistoryFormat(formatFlag, quiet, human), rows, format.HistoryHeader())
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&human, "human", "H", true, "Print sizes and dates in human readable format")
	flags.BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	flags.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	flags.StringVar(&formatFlag, "format", "", listFormatHelp)
	return cmd
}

// newImportCommand makes `import` and `image import`.
func newImportCommand(c *Cli) *cobra.Command {
	var (
		changes []string
		message string
	)
	cmd := &cobra.Command{
		Use:   "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
		Short: "Import the contents from a tarball to create a filesystem image",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			src := args[0]
			var ref string
			if len(args) > 1 {
				ref = args[1]
			}
			var source client.ImageImportSource
			switch {
			case src == "-":
				source = client.ImageImportSource{Source: c.In, SourceName: "-"}
			case strings.HasPrefix(src, "http://"), strings.HasPrefix(src, "https://"):
				// The daemon downloads URLs itself.
				source = client.ImageImportSource{SourceName: src}
			default:
				f, err := os.Open(src)
				if err != nil {
					return err
				}
				defer f.Close()
				source = client.ImageImportSource{Source: f, SourceName: "-"}
			}
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			body, err := api.ImageImport(ctx, source, ref, client.ImageImportOptions{Message: message, Changes: changes})
			if err != nil {
				return err
			}
			defer body.Close()
			return imageProgress(body, c.Out)
		},
	}
	flags := cmd.Flags()
	flags.StringArrayVarP(&changes, "change", "c", nil, "Apply Dockerfile instruction to the created image")
	flags.StringVarP(&message, "message", "m", "", "Set commit message for imported image")
	return cmd
}

// newSaveCommand makes `save` and `image save`.
func newSaveCommand(c *Cli) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:  requiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return writeArchive(c, output, "failed to save image", func() (io.ReadCloser, error) {
				api, err := c.Client(ctx)
				if err != nil {
					return nil, err
				}
				return api.ImageSave(ctx, args)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

// writeArchive writes the archive open returns to the file output (made
// visible only once complete) or to stdout, which must not be a terminal,
// as docker save and export do. failed prefixes errors about output.
func writeArchive(c *Cli, output, failed string, open func() (io.ReadCloser, error)) error {
	var dest io.Writer = c.Out
	if output == "" {
		if _, tty := terminalFd(c.Out); tty {
			return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
		}
	} else {
		f, err := createSaveFile(output)
		if err != nil {
			return fmt.Errorf("%s: %w", failed, err)
		}
		defer f.abort()
		dest = f
	}
	body, err := open()
	if err != nil {
		return err
	}
	defer body.Close()
	if _, err := io.Copy(dest, body); err != nil {
		return err
	}
	if f, ok := dest.(*saveFile); ok {
		return f.commit()
	}
	return nil
}

// saveFile is the destination of `save -o`: a temporary file beside the
// target, renamed over it only once the archive is complete, so the target
// never holds half an archive (atomicfile.WriteFile would hold the whole
// archive in memory).
type saveFile struct {
	*os.File
	path string
	done bool
}

// createSaveFile checks path as docker does (its folder must exist; it may
// only replace a regular file) and opens the temporary file.
func createSaveFile(path string) (*saveFile, error) {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("invalid output path: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("invalid output path: %w", &os.PathError{Op: "stat", Path: dir, Err: syscall.ENOTDIR})
	}
	if fi, err := os.Lstat(path); err == nil {
		switch mode := fi.Mode(); {
		case mode.IsDir():
			return nil, errors.New("cannot write to a directory")
		case mode&os.ModeSymlink != 0:
			return nil, errors.New("cannot write to a symbolic link directly")
		case mode&os.ModeNamedPipe != 0:
			return nil, errors.New("cannot write to a named pipe (FIFO)")
		case mode&os.ModeSocket != 0:
			return nil, errors.New("cannot write to a socket")
		case mode&os.ModeCharDevice != 0:
			return nil, errors.New("cannot write to a character device file")
		case mode&os.ModeDevice != 0:
			return nil, errors.New("cannot write to a block device file")
		}
	} else if !os.IsNotExist(err) {
		return nil, fmt.Errorf("failed to stat output path: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path))
	if err != nil {
		return nil, err
	}
	return &saveFile{File: f, path: path}, nil
}

// commit makes the archive visible under its name.
func (f *saveFile) commit() error {
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), f.path); err != nil {
		return err
	}
	f.done = true
	return atomicfile.SyncDir(filepath.Dir(f.path))
}

// abort removes the temporary file unless commit succeeded.
func (f *saveFile) abort() {
	if !f.done {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
}

// newLoadCommand makes `load` and `image load`.
func newLoadCommand(c *Cli) *cobra.Command {
	var (
		input string
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load an image from a tar archive or STDIN",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var in io.Reader = c.In
			if input == "" {
				// Waiting on a terminal for a tar archive would only hang.
				if _, tty := terminalFd(c.In); tty {
					return errors.New("requested load from stdin, but stdin is empty")
				}
			} else {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			api, err := c.Client(ctx)
			if err != nil {
				return err
			}
			var opts []client.ImageLoadOption
			if _, tty := terminalFd(c.Out); quiet || !tty {
				opts = append(opts, client.ImageLoadWithQuiet(true))
			}
			body, err := api.ImageLoad(ctx, in, opts...)
			if err != nil {
				return err
			}
			defer body.Close()
			return imageProgress(body, c.Out)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&input, "input", "i", "", "Read from tar archive file, instead of STDIN")
	flags.BoolVarP(&quiet, "quiet", "q", false, "Suppress the load output")
	return cmd
}

// imageProgress renders the daemon's JSON progress stream as docker
// does: progress bars on a terminal, plain lines otherwise; an error message
// in the stream becomes the returned error.
func imageProgress(r io.Reader, out io.Writer) error {
	fd, tty := terminalFd(out)
	return jsonmessage.DisplayJSONMessagesStream(r, out, fd, tty, nil)
}

// apiFilters collects repeatable --filter key=value flags as API filters.
type apiFilters client.Filters

// Set adds one key=value filter.
func (f apiFilters) Set(value string) error {
	if value == "" {
		return nil
	}
	name, val, ok := strings.Cut(value, "=")
	if !ok {
		return errors.New("bad format of filter (expected name=value)")
	}
	client.Filters(f).Add(strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(val))
	return nil
}

// String shows the filters as the JSON the API receives.
func (f apiFilters) String() string {
	if len(f) == 0 {
		return "" // keeps help from printing a default
	}
	b, err := json.Marshal(client.Filters(f))
	if err != nil {
		return "invalid filters"
	}
	return string(b)
}

// Type names the flag's value in help.
func (f apiFilters) Type() string { return "filter" }

// atMostArgs checks the argument count with docker's message.
func atMostArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		return fmt.Errorf("%[1]s: '%[2]s' requires at most %[3]d %[4]s\n\nUsage:  %[5]s\n\nSee '%[2]s --help' for more information",
			cmd.Root().Name(), cmd.CommandPath(), n, pluralize("argument", n), cmd.UseLine())
	}
}
