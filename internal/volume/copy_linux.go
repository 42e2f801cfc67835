package volume

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// CopyUp fills an empty volume folder dst with the content of the folder
// target inside the root filesystem rootfs, as docker does on a volume's
// first mount: modes, ownership and times preserved. Everything is read
// through an os.Root, so no symbolic link in the image can lead the copy
// out of rootfs (a target reached only through such a link copies
// nothing). A dst that holds anything, or a target that is not a folder,
// copies nothing.
func CopyUp(rootfs, target, dst string) error {
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return fmt.Errorf("copy image content into volume: %w", err)
	}
	defer root.Close()
	rel := strings.TrimPrefix(path.Clean("/"+target), "/")
	if fi, err := root.Lstat(rel); err != nil || !fi.IsDir() {
		return nil
	}
	entries, err := os.ReadDir(dst)
	if err != nil {
		return fmt.Errorf("copy image content into volume: %w", err)
	}
	if len(entries) > 0 {
		return nil
	}
	if err := fs.WalkDir(root.FS(), rel, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		sub := strings.TrimPrefix(strings.TrimPrefix(p, rel), "/")
		return copyEntry(root, p, filepath.Join(dst, sub), sub == "")
	}); err != nil {
		return fmt.Errorf("copy image content into volume: %w", err)
	}
	return nil
}

// copyEntry copies one file, folder or link from root to dst; top is
// dst's own folder, which exists and takes src's mode and owner.
func copyEntry(root *os.Root, src, dst string, top bool) error {
	fi, err := root.Lstat(src)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("no stat data")
	}
	mode := fi.Mode()
	switch {
	case mode.IsDir():
		if !top {
			if err := os.Mkdir(dst, 0o700); err != nil {
				return err
			}
		}
	case mode&fs.ModeSymlink != 0:
		target, err := root.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		return os.Lchown(dst, int(st.Uid), int(st.Gid))
	case mode.IsRegular():
		if err := copyFile(root, src, dst); err != nil {
			return err
		}
	default:
		// devices, fifos and sockets are made again, not read
		if err := unix.Mknod(dst, uint32(st.Mode), int(st.Rdev)); err != nil {
			return err
		}
	}
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	// chmod after chown, which clears setuid and setgid bits
	if err := os.Chmod(dst, mode.Perm()|mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
}

func copyFile(root *os.Root, src, dst string) error {
	in, err := root.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
