package network

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CreateUserNetNS creates a user namespace with the given ID mappings and a
// network namespace that it owns, bind-mounted at userPath and netPath,
// the latter with its loopback up. A remapped container joins both: its
// root then holds its capabilities over its own network, as in dockerd,
// whose runtime makes the network namespace inside the user namespace. A
// Go program cannot unshare a user namespace (it is multithreaded), so a
// child is cloned into both namespaces and held stopped (ptrace stops it at
// its exec) until they are bound, then killed.
func CreateUserNetNS(userPath, netPath string, uids, gids []specs.LinuxIDMapping) (retErr error) {
	for _, p := range []string{userPath, netPath} {
		if err := nsFile(p); err != nil {
			return err
		}
	}
	defer func() {
		if retErr != nil {
			_ = RemoveNetNS(netPath)
			_ = RemoveNetNS(userPath)
		}
	}()
	errc := make(chan error, 1)
	go func() {
		// The tracer of the held child is this thread: it is never
		// unlocked, and goes away with the goroutine.
		runtime.LockOSThread()
		errc <- holdNamespaces(userPath, netPath, procIDMaps(uids), procIDMaps(gids))
	}()
	if err := <-errc; err != nil {
		return err
	}
	return loopbackUp(netPath)
}

func holdNamespaces(userPath, netPath string, uids, gids []syscall.SysProcIDMap) error {
	cmd := exec.Command("/proc/self/exe")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWNET,
		UidMappings: uids,
		GidMappings: gids,
		Ptrace:      true, // stopped at its exec: it never runs
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("create user namespace: %w", err)
	}
	pid := cmd.Process.Pid
	defer func() {
		_ = unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
			if err != nil && !errors.Is(err, unix.EINTR) || err == nil && (ws.Exited() || ws.Signaled()) {
				break
			}
		}
		_ = cmd.Process.Release()
	}()
	for ns, path := range map[string]string{"user": userPath, "net": netPath} {
		if err := unix.Mount(fmt.Sprintf("/proc/%d/ns/%s", pid, ns), path, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mount %s namespace at %s: %w", ns, path, err)
		}
	}
	return nil
}

func procIDMaps(maps []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(maps))
	for _, m := range maps {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	return out
}
