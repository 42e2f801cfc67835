package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// claimHost makes this berthd the only one on the host using its exec root,
// its default bridge and its nftables table: two daemons sharing the table
// delete each other's bridges and veths at boot (links are tagged with the
// table's name), and two on one bridge or exec root trample each other's
// addresses and shim folders. A second berthd that would share one of them
// refuses to start, naming the running one's pid. The claims end with the
// process, kill -9 included. release drops them (for tests).
func claimHost(execRoot, bridge, table string) (release func(), err error) {
	var held []func()
	release = func() {
		for _, r := range held {
			r()
		}
	}
	unlock, err := lockFile(filepath.Join(execRoot, "berthd.lock"), "exec root "+execRoot)
	if err != nil {
		return nil, err
	}
	held = append(held, unlock)
	if bridge == "" {
		bridge = "berth0"
	}
	claims := []struct{ kind, name string }{{"nftables table", table}}
	if bridge != "none" {
		claims = append(claims, struct{ kind, name string }{"bridge", bridge})
	}
	for _, c := range claims {
		r, err := claimName(c.kind, c.name)
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, r)
	}
	return release, nil
}

// claimName binds an abstract unix socket named after what is claimed.
// Abstract sockets belong to the network namespace, as bridges and
// nftables tables do, and vanish with their process: no stale lock is left
// by a crash. The holder's pid is read from a connection to it
// (SO_PEERCRED).
func claimName(kind, name string) (func(), error) {
	addr := "@berthd/" + strings.ReplaceAll(kind, " ", "-") + "/" + name
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
	if errors.Is(err, unix.EADDRINUSE) {
		return nil, fmt.Errorf("another berthd (pid %s) is already using %s %q; give this one its own (--bridge, --firewall-table, --exec-root)", holderPid(addr), kind, name)
	}
	if err != nil {
		return nil, fmt.Errorf("claim %s %q: %w", kind, name, err)
	}
	go func() { // answer the pid queries of later daemons
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return func() { l.Close() }, nil
}

// holderPid is the pid of the process listening on the abstract socket
// addr, or "unknown".
func holderPid(addr string) string {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: addr, Net: "unix"})
	if err != nil {
		return "unknown"
	}
	defer c.Close()
	raw, err := c.SyscallConn()
	if err != nil {
		return "unknown"
	}
	var cred *unix.Ucred
	_ = raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if err != nil || cred == nil {
		return "unknown"
	}
	return strconv.Itoa(int(cred.Pid))
}

// lockFile takes an exclusive flock on path and writes our pid in it; what
// names the locked thing in the error.
func lockFile(path, what string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(path)
		f.Close()
		return nil, fmt.Errorf("another berthd (pid %s) is already using %s", strings.TrimSpace(string(pid)), what)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}
