package volume

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// CopyUp fills an empty volume folder dst with the content of src, the
// image's folder at the mount's target, as docker does on a volume's first
// mount: modes, ownership and times preserved. A dst that holds anything,
// or a src that is not a folder (missing, or a symbolic link that could
// lead out of the root filesystem), copies nothing.
func CopyUp(src, dst string) error {
	fi, err := os.Lstat(src)
	if err != nil || !fi.IsDir() {
		return nil
	}
	entries, err := os.ReadDir(dst)
	if err != nil {
		return fmt.Errorf("copy image content into volume: %w", err)
	}
	if len(entries) > 0 {
		return nil
	}
	if err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		return copyEntry(p, filepath.Join(dst, rel), rel == ".")
	}); err != nil {
		return fmt.Errorf("copy image content into volume: %w", err)
	}
	return nil
}

// copyEntry copies one file, folder or link; top is dst's own folder,
// which exists and takes src's mode and owner.
func copyEntry(src, dst string, top bool) error {
	fi, err := os.Lstat(src)
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
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
		return os.Lchown(dst, int(st.Uid), int(st.Gid))
	case mode.IsRegular():
		if err := copyFile(src, dst); err != nil {
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

func copyFile(src, dst string) error {
	in, err := os.Open(src)
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
