//go:build linux

package ctrfs

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"

	"github.com/moby/go-archive"
	"golang.org/x/sys/unix"
)

// chrootPack tars srcPath (a path under root) on a thread whose root
// directory is root, so that every link the walk meets, even one swapped
// in meanwhile, resolves inside root. Plain chroot, without a mount
// namespace: root may be a running container's /proc/<pid>/root, whose
// mounts (volumes, binds) the walk then crosses as the container does, and
// nothing is created in it.
func chrootPack(srcPath string, opts *archive.TarOptions, root string) (io.ReadCloser, error) {
	rel, err := filepath.Rel(root, srcPath)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return nil, fmt.Errorf("pack %s: not under %s", srcPath, root)
	}
	tb, err := archive.NewTarballer(filepath.Join("/", rel), opts)
	if err != nil {
		return nil, err
	}
	if err := inRoot(root, tb.Do); err != nil {
		_ = tb.Reader().Close()
		return nil, fmt.Errorf("pack %s: %w", srcPath, err)
	}
	return tb.Reader(), nil
}

// chrootUnpack extracts r on a thread whose root directory is root, as
// dockerd's chrootarchive does since CVE-2018-15664: a folder of a running
// container swapped for a link to "/" between the resolution of the
// destination and the writes resolves to the container's "/", not the
// host's.
func chrootUnpack(r io.Reader, root string, opts *archive.TarOptions) error {
	done := make(chan error, 1)
	if err := inRoot(root, func() { done <- archive.Unpack(r, "/", opts) }); err != nil {
		return fmt.Errorf("unpack into %s: %w", root, err)
	}
	return <-done
}

// inRoot starts fn on a thread of its own whose root and working
// directory are root, once that thread is there; the error is that of
// entering root.
func inRoot(root string, fn func()) error {
	started := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, with its own root, ends with this
		// goroutine and serves no other.
		runtime.LockOSThread()
		if err := enterRoot(root); err != nil {
			started <- err
			return
		}
		started <- nil
		fn()
	}()
	return <-started
}

// enterRoot gives the calling thread its own filesystem attributes and
// makes root its root and working directory.
func enterRoot(root string) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	if err := unix.Chroot(root); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir: %w", err)
	}
	return nil
}
