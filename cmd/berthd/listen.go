package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// defaultSocketGroup is dockerd's: members of "docker" may use the socket.
const defaultSocketGroup = "docker"

// listen opens every -H address: unix sockets and TCP addresses (see
// listenTCP). As dockerd's, each unix socket is root:<group> 0660, so that
// adding a user to the group lets them talk to berthd; when the default
// group does not exist the socket stays root-only, while a group asked for
// by name must exist.
func listen(hosts []string, group string, sec tcpSecurity) ([]net.Listener, error) {
	gid, err := socketGID(group)
	if err != nil {
		return nil, err
	}
	var ls []net.Listener
	for _, h := range hosts {
		var l net.Listener
		var err error
		if path, ok := strings.CutPrefix(h, "unix://"); ok {
			l, err = listenUnix(path, gid)
		} else if addr, ok := strings.CutPrefix(h, "tcp://"); ok {
			l, err = listenTCP(addr, sec)
		} else {
			err = fmt.Errorf("unsupported host %q: only unix:// and tcp:// are served", h)
		}
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// listenUnix creates the socket at path owned by root:gid, mode 0660.
func listenUnix(path string, gid int) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	// the data root lock is held, so a socket left here is stale
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chown(path, 0, gid); err != nil {
		l.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	return l, nil
}

// socketGID resolves the -G group, a name or a number, as dockerd does:
// the default "docker" missing is a warning (the socket is root's alone),
// any other missing group name an error, and an empty group means root.
func socketGID(group string) (int, error) {
	if group == "" {
		return 0, nil
	}
	g, err := user.LookupGroup(group)
	if err == nil {
		return strconv.Atoi(g.Gid)
	}
	var unknown user.UnknownGroupError
	if !errors.As(err, &unknown) {
		return 0, fmt.Errorf("look up group %q: %w", group, err)
	}
	if gid, err := strconv.Atoi(group); err == nil && gid >= 0 {
		return gid, nil
	}
	if group == defaultSocketGroup {
		slog.Warn("socket group not found; only root can use the socket", "group", group)
		return 0, nil
	}
	return 0, fmt.Errorf("group %s not found", group)
}
