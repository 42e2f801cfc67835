package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/go-archive"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// cpOptions are the flags of `cp`.
type cpOptions struct {
	followLink, copyUIDGID, quiet bool
}

// newCpCommand makes `cp` (and `container cp`): copies between a
// container and the local filesystem, "-" being a tar stream on
// stdin/stdout, with docker's path rules (a trailing "/." copies a
// directory's content, a trailing "/" requires a directory).
func newCpCommand(c *Cli) *cobra.Command {
	var opts cpOptions
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flag("quiet").Changed {
				// as docker: no summary unless a terminal shows it
				_, tty := terminalFd(c.Out)
				opts.quiet = !tty
			}
			srcCtr, srcPath := splitCpArg(args[0])
			dstCtr, dstPath := splitCpArg(args[1])
			switch {
			case srcCtr != "" && dstCtr != "":
				return errors.New("copying between containers is not supported")
			case srcCtr != "":
				return copyFromContainer(cmd, c, srcCtr, srcPath, dstPath, opts)
			case dstCtr != "":
				return copyToContainer(cmd, c, srcPath, dstCtr, dstPath, opts)
			}
			return errors.New("must specify at least one container source")
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&opts.followLink, "follow-link", "L", false, "Always follow symlinks in SRC_PATH")
	flags.BoolVarP(&opts.copyUIDGID, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	flags.BoolVarP(&opts.quiet, "quiet", "q", false, "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached")
	return cmd
}

// splitCpArg splits "container:path"; an absolute path, or a relative one
// starting with "." ("./file:name"), is local, as docker decides.
func splitCpArg(arg string) (ctr, path string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	ctr, path, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, path
}

// localPath is path made absolute, keeping a trailing "/" or "/.".
func localPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return archive.PreserveTrailingDotOrSeparator(abs, path), nil
}

// checkOutputPath is docker's check of a local destination: its folder
// exists, and it is a folder or a regular file when it exists.
func checkOutputPath(path string) error {
	if dir := filepath.Dir(filepath.Clean(path)); dir != "" && dir != "." {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			return fmt.Errorf("invalid output path: directory %q does not exist", dir)
		}
	}
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := irregular(fi.Mode()); err != nil {
		return fmt.Errorf("invalid output path: %q must be a directory or a regular file: %w", path, err)
	}
	return nil
}

// irregular refuses devices and irregular files as copy destinations.
func irregular(mode os.FileMode) error {
	switch {
	case mode&os.ModeDevice != 0:
		return errors.New("got a device")
	case mode&os.ModeIrregular != 0:
		return errors.New("got an irregular file")
	}
	return nil
}

// linkTarget is where the container's link at p leads: target, joined
// with p's folder when relative.
func linkTarget(p, target string) string {
	if filepath.IsAbs(target) {
		return target
	}
	dir, _ := archive.SplitPathDirEntry(p)
	return filepath.Join(dir, target)
}

// copySummary is docker's last line of a copy shown on a terminal.
func copySummary(c *Cli, size int64, dst string) {
	fmt.Fprintf(c.Err, "Successfully copied %s to %s\n", units.HumanSizeWithPrecision(float64(size), 3), dst)
}

func copyFromContainer(cmd *cobra.Command, c *Cli, ctr, srcPath, dstPath string, opts cpOptions) error {
	ctx := cmd.Context()
	if dstPath != "-" {
		p, err := localPath(dstPath)
		if err != nil {
			return err
		}
		dstPath = p
		if err := checkOutputPath(dstPath); err != nil {
			return err
		}
	}
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	rebaseName := ""
	if opts.followLink {
		st, err := api.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: srcPath})
		if err == nil && st.Stat.Mode&os.ModeSymlink != 0 {
			srcPath, rebaseName = archive.GetRebaseName(srcPath, linkTarget(srcPath, st.Stat.LinkTarget))
		}
	}
	res, err := api.CopyFromContainer(ctx, ctr, client.CopyFromContainerOptions{SourcePath: srcPath})
	if err != nil {
		return err
	}
	defer res.Content.Close()
	if dstPath == "-" {
		_, err := io.Copy(c.Out, res.Content)
		return err
	}
	src := archive.CopyInfo{Path: srcPath, Exists: true, IsDir: res.Stat.Mode.IsDir(), RebaseName: rebaseName}
	content := io.Reader(res.Content)
	if rebaseName != "" {
		_, base := archive.SplitPathDirEntry(srcPath)
		rc := archive.RebaseArchiveEntries(res.Content, base, rebaseName)
		defer rc.Close()
		content = rc
	}
	var copied byteCount
	if err := archive.CopyTo(io.TeeReader(content, &copied), src, dstPath); err != nil {
		return err
	}
	if !opts.quiet {
		size := int64(copied)
		if !res.Stat.Mode.IsDir() {
			size = res.Stat.Size
		}
		copySummary(c, size, dstPath)
	}
	return nil
}

// byteCount counts what is written to it: the bytes of a copy, for its
// summary.
type byteCount int64

func (b *byteCount) Write(p []byte) (int, error) {
	*b += byteCount(len(p))
	return len(p), nil
}

func copyToContainer(cmd *cobra.Command, c *Cli, srcPath, ctr, dstPath string, opts cpOptions) error {
	ctx := cmd.Context()
	if srcPath != "-" {
		p, err := localPath(srcPath)
		if err != nil {
			return err
		}
		srcPath = p
	}
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	dst := archive.CopyInfo{Path: dstPath}
	st, err := api.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: dstPath})
	if err == nil && st.Stat.Mode&os.ModeSymlink != 0 {
		dst.Path = linkTarget(dstPath, st.Stat.LinkTarget)
		st, err = api.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: dst.Path})
	}
	if err == nil {
		if err := irregular(st.Stat.Mode); err != nil {
			return fmt.Errorf("destination \"%s:%s\" must be a directory or a regular file: %w", ctr, dstPath, err)
		}
		dst.Exists, dst.IsDir = true, st.Stat.Mode.IsDir()
	}
	var content io.Reader
	resolved := dst.Path
	if srcPath == "-" {
		if !dst.IsDir {
			return fmt.Errorf("destination \"%s:%s\" must be a directory", ctr, dstPath)
		}
		content = c.In
	} else {
		src, err := archive.CopyInfoSourcePath(srcPath, opts.followLink)
		if err != nil {
			return err
		}
		tarred, err := archive.TarResource(src)
		if err != nil {
			return err
		}
		defer tarred.Close()
		dir, prepared, err := archive.PrepareArchiveCopy(tarred, src, dst)
		if err != nil {
			return err
		}
		defer prepared.Close()
		resolved, content = dir, prepared
	}
	var copied byteCount
	if _, err := api.CopyToContainer(ctx, ctr, client.CopyToContainerOptions{
		DestinationPath: resolved,
		Content:         io.TeeReader(content, &copied),
		CopyUIDGID:      opts.copyUIDGID,
	}); err != nil {
		return err
	}
	if !opts.quiet {
		copySummary(c, int64(copied), ctr+":"+dst.Path)
	}
	return nil
}
