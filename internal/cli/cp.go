package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/go-archive"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// cpOptions are the flags of `cp`.
type cpOptions struct {
	followLink, copyUIDGID bool
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
			srcCtr, srcPath := splitCpArg(args[0])
			dstCtr, dstPath := splitCpArg(args[1])
			switch {
			case srcCtr != "" && dstCtr != "":
				return errors.New("copying between containers is not supported")
			case srcCtr == "" && dstCtr == "":
				return errors.New("must specify at least one container source")
			}
			if srcPath == "" || dstPath == "" {
				return errors.New("filepath can not be empty")
			}
			if srcCtr != "" {
				return copyFromContainer(cmd, c, srcCtr, srcPath, dstPath, opts)
			}
			return copyToContainer(cmd, c, srcPath, dstCtr, dstPath, opts)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&opts.followLink, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	flags.BoolVarP(&opts.copyUIDGID, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	flags.BoolP("quiet", "q", false, "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached")
	return cmd
}

// splitCpArg splits "container:path"; a path that starts with "/" or "."
// is always local, as docker decides.
func splitCpArg(arg string) (ctr, path string) {
	if filepath.IsAbs(arg) || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	ctr, path, ok := strings.Cut(arg, ":")
	if !ok {
		return "", arg
	}
	return ctr, path
}

func copyFromContainer(cmd *cobra.Command, c *Cli, ctr, srcPath, dstPath string, opts cpOptions) error {
	ctx := cmd.Context()
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	rebaseName := ""
	if opts.followLink {
		st, err := api.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: srcPath})
		if err == nil && st.Stat.Mode&os.ModeSymlink != 0 {
			target := st.Stat.LinkTarget
			if !filepath.IsAbs(target) {
				dir, _ := archive.SplitPathDirEntry(srcPath)
				target = filepath.Join(dir, target)
			}
			srcPath, rebaseName = archive.GetRebaseName(srcPath, target)
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
	return archive.CopyTo(content, src, dstPath)
}

func copyToContainer(cmd *cobra.Command, c *Cli, srcPath, ctr, dstPath string, opts cpOptions) error {
	ctx := cmd.Context()
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	dst := archive.CopyInfo{Path: dstPath}
	st, err := api.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: dstPath})
	if err == nil && st.Stat.Mode&os.ModeSymlink != 0 {
		target := st.Stat.LinkTarget
		if !filepath.IsAbs(target) {
			dir, _ := archive.SplitPathDirEntry(dstPath)
			target = filepath.Join(dir, target)
		}
		dst.Path = target
		st, err = api.ContainerStatPath(ctx, ctr, client.ContainerStatPathOptions{Path: target})
	}
	if err == nil {
		mode := st.Stat.Mode
		if !mode.IsDir() && !mode.IsRegular() {
			return fmt.Errorf("destination \"%s:%s\" must be a directory or a regular file", ctr, dstPath)
		}
		dst.Exists, dst.IsDir = true, mode.IsDir()
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
	_, err = api.CopyToContainer(ctx, ctr, client.CopyToContainerOptions{
		DestinationPath: resolved,
		Content:         content,
		CopyUIDGID:      opts.copyUIDGID,
	})
	return err
}
