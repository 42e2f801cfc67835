package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// run starts the command in args (after an optional "--"), forwards
// signals to it and reaps zombies until it exits; it returns the exit
// status the init exits with.
func run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "berth-init: usage: docker-init -- COMMAND [ARG...]")
		return 1
	}
	if os.Getpid() != 1 {
		// outside a pid namespace of its own, orphans are re-parented to
		// the nearest subreaper: be it, so that they are still reaped here
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	// Catch every signal before the child exists, so none is lost between
	// its start and the first forward.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	defer signal.Stop(sigs)

	child, err := start(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-init: exec %s failed: %v\n", args[0], err)
		if errors.Is(err, fs.ErrNotExist) {
			return 127
		}
		return 126
	}
	for sig := range sigs {
		s := sig.(syscall.Signal)
		if s != unix.SIGCHLD {
			if forwarded(s) {
				_ = unix.Kill(child, s)
			}
			continue
		}
		if status, done := reap(child); done {
			return status
		}
	}
	return 1
}

// start runs the command with the init's stdio, environment and process
// group (docker-init's default: signals go to the child alone).
func start(args []string) (int, error) {
	path, err := lookPath(args[0])
	if err != nil {
		return 0, err
	}
	p, err := os.StartProcess(path, args, &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		return 0, err
	}
	return p.Pid, nil
}

// lookPath finds name in $PATH as a shell would; a name with a slash is
// taken as it is.
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: executable file not found in $PATH", fs.ErrNotExist)
}

// forwarded reports whether a signal the init receives goes to the child:
// not the ones the kernel raises synchronously for the init itself, nor
// SIGURG, which Go's scheduler uses for its own preemption.
func forwarded(s syscall.Signal) bool {
	switch s {
	case unix.SIGFPE, unix.SIGILL, unix.SIGSEGV, unix.SIGBUS, unix.SIGABRT, unix.SIGTRAP, unix.SIGSYS,
		unix.SIGTTIN, unix.SIGTTOU, unix.SIGURG:
		return false
	}
	return true
}

// reap collects every exited process; done is true once child is among
// them, with the status the init exits with.
func reap(child int) (status int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return status, done
		}
		if pid != child {
			continue
		}
		done = true
		switch {
		case ws.Exited():
			status = ws.ExitStatus()
		case ws.Signaled():
			status = 128 + int(ws.Signal())
		}
	}
}
