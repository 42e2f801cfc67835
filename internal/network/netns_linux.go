package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NewNetNS creates a persistent network namespace for a container,
// bind-mounted at <ExecRoot>/netns/<id>, with its loopback up. The daemon
// passes the path to the OCI runtime (oci.Options.NetNSPath), so that
// networking is set up before the container starts and outlives berthd
// restarts. An existing namespace at that path is reused.
func (m *Manager) NewNetNS(id string) (string, error) {
	path := NetNSPath(m.cfg.ExecRoot, id)
	if isNetNS(path) {
		return path, nil
	}
	if err := CreateNetNS(path); err != nil {
		return "", err
	}
	return path, nil
}

// CreateNetNS creates a new network namespace bind-mounted at path, with its
// loopback interface up.
func CreateNetNS(path string) (retErr error) {
	if err := nsFile(path); err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			_ = RemoveNetNS(path)
		}
	}()
	errc := make(chan error, 1)
	go func() {
		// The thread unshares into the new namespace and is never unlocked:
		// it exits with this goroutine, so no other goroutine ever runs on it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare netns: %w", err)
			return
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(src, path, "", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("bind-mount netns at %s: %w", path, err)
			return
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		return err
	}
	return loopbackUp(path)
}

// loopbackUp brings up the loopback interface of the namespace at path.
func loopbackUp(path string) error {
	return InNetNS(path, func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return fmt.Errorf("netns loopback: %w", err)
		}
		if err := netlink.LinkSetUp(lo); err != nil {
			return fmt.Errorf("netns loopback up: %w", err)
		}
		return nil
	})
}

// nsFile creates the empty file a namespace is bind-mounted on.
func nsFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create namespace dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("create namespace file: %w", err)
	}
	return f.Close()
}

// RemoveNetNS unmounts and removes a namespace made by CreateNetNS; the
// namespace goes once nothing else holds it. Idempotent.
func RemoveNetNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount netns %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove netns %s: %w", path, err)
	}
	return nil
}

// InNetNS runs fn in the network namespace at path, on a locked OS thread
// that is thrown away afterwards: sockets fn creates belong to that
// namespace and stay usable from any goroutine. path may also be
// /proc/<pid>/ns/net.
func InNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// never unlocked: the thread dies with the goroutine instead of
		// going back to the scheduler in the wrong namespace
		runtime.LockOSThread()
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", path, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		_ = unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("enter netns %s: %w", path, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// isNetNS reports whether path is a mounted network namespace.
func isNetNS(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// netlinkIn returns a netlink handle whose sockets live in the namespace at
// path, usable from any thread.
func netlinkIn(path string) (*netlink.Handle, error) {
	var h *netlink.Handle
	err := InNetNS(path, func() error {
		var err error
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	return h, err
}
