package runtime

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	cgroupRoot    = "/sys/fs/cgroup"
	cgroupUnified = "/sys/fs/cgroup/unified"
)

// hybridWithV2Controllers reports whether the host is hybrid (a tmpfs of
// v1 hierarchies at /sys/fs/cgroup plus cgroup2 at its unified folder) and
// the v2 hierarchy holds any controller: the case crun refuses. Detected
// once per process.
var hybridWithV2Controllers = sync.OnceValue(func() bool {
	var st unix.Statfs_t
	if unix.Statfs(cgroupRoot, &st) != nil || st.Type != unix.TMPFS_MAGIC {
		return false
	}
	if unix.Statfs(cgroupUnified, &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		return false
	}
	controllers, err := os.ReadFile(cgroupUnified + "/cgroup.controllers")
	return err == nil && len(bytes.TrimSpace(controllers)) > 0
})

// startInV1View starts cmd in a new mount namespace, a copy of the
// caller's where the v2 mount of the hybrid host is unmounted. The copy is
// made by a locked thread that then forks cmd and dies with its goroutine,
// so no other goroutine ever runs in it. Only /sys/fs/cgroup is made
// private in the copy (so the unmount cannot reach the host's mounts
// through propagation); every other mount keeps its propagation, so
// volumes with shared propagation behave as under runc.
func startInV1View(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			errc <- fmt.Errorf("hide the cgroup v2 mount from the runtime: unshare: %w", err)
			return
		}
		if err := unix.Mount("", cgroupRoot, "", unix.MS_PRIVATE, ""); err != nil {
			errc <- fmt.Errorf("hide the cgroup v2 mount from the runtime: %w", err)
			return
		}
		if err := unix.Unmount(cgroupUnified, unix.MNT_DETACH); err != nil {
			errc <- fmt.Errorf("hide the cgroup v2 mount from the runtime: %w", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

