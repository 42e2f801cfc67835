package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// reap removes what a stopped daemon may have left behind: runtime
// containers in its runc root, berth-shim processes serving its exec root,
// and mounts under its directories.
func (d *Daemon) reap() []error {
	var errs []error
	errs = append(errs, d.reapRuntime()...)
	errs = append(errs, d.reapShims()...)
	// a data root shared with another daemon (WithDataRoot) is left alone
	errs = append(errs, unmountUnder(d.Root)...)
	return errs
}

// reapRuntime kills and deletes every container runc knows under the exec
// root's runc state directory.
func (d *Daemon) reapRuntime() []error {
	root := filepath.Join(d.ExecRoot, "runc")
	if _, err := os.Stat(root); err != nil {
		return nil
	}
	out, err := exec.Command("runc", "--root", root, "list", "-q").Output()
	if err != nil {
		return []error{fmt.Errorf("runc --root %s list: %w", root, err)}
	}
	var errs []error
	for _, id := range strings.Fields(string(out)) {
		_ = exec.Command("runc", "--root", root, "kill", id, "KILL").Run()
		if out, err := exec.Command("runc", "--root", root, "delete", "--force", id).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("runc delete --force %s: %v: %s", id, err, bytes.TrimSpace(out)))
		}
	}
	return errs
}

// reapShims kills berth-shim processes whose command line or working
// directory points into the exec root.
func (d *Daemon) reapShims() []error {
	pids := ShimPids(d.ExecRoot)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for time.Now().Before(deadline) && syscall.Kill(pid, 0) == nil && !isZombie(pid) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// ShimPids lists the berth-shim processes that serve containers under
// execRoot.
func ShimPids(execRoot string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if !strings.HasPrefix(filepath.Base(exe), "berth-shim") {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if bytes.Contains(cmdline, []byte(execRoot+"/")) || strings.HasPrefix(cwd, execRoot+"/") || bytes.Contains(environ, []byte(execRoot+"/")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z'
	}
	return false
}

// UnmountUnder lazily unmounts every mount point at or below dir, deepest
// first.
func UnmountUnder(dir string) error { return errors.Join(unmountUnder(dir)...) }

func unmountUnder(dir string) []error {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return []error{fmt.Errorf("read mount table: %w", err)}
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].Mountpoint) > len(mounts[j].Mountpoint) })
	var errs []error
	for _, m := range mounts {
		if err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m.Mountpoint, err))
		}
	}
	return errs
}

// MountsUnder lists the mount points at or below dir.
func MountsUnder(dir string) []string {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range mounts {
		out = append(out, m.Mountpoint)
	}
	return out
}
