package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitCode(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		code   int
		stderr string
	}{
		{"success", context.Background(), nil, 0, ""},
		{"container exit code", context.Background(), StatusError{StatusCode: 42}, 42, ""},
		{"status with message", context.Background(), StatusError{Status: "bad flag", StatusCode: 125}, 125, "bad flag\n"},
		{"status without code", context.Background(), StatusError{Status: "x"}, 1, "x\n"},
		{"wrapped status", context.Background(), fmt.Errorf("w: %w", StatusError{StatusCode: 3}), 3, ""},
		{"daemon error", context.Background(), errors.New("Error response from daemon: No such container: x"), 1, "Error response from daemon: No such container: x\n"},
		{"canceled by the user", canceled, context.Canceled, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errb bytes.Buffer
			if code := exitCode(tt.ctx, &errb, tt.err); code != tt.code || errb.String() != tt.stderr {
				t.Errorf("exitCode = %d, %q; want %d, %q", code, errb.String(), tt.code, tt.stderr)
			}
		})
	}
}

func TestSignalExitCode(t *testing.T) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGUSR2, syscall.SIGTERM)
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("signal not delivered")
	}
	if code := exitCode(ctx, io.Discard, context.Canceled); code != 143 {
		t.Errorf("exit code after SIGTERM = %d, want 143", code)
	}
}

func TestToStatusError(t *testing.T) {
	tests := []struct {
		msg  string
		code int
	}{
		{`exec: "foo": executable file not found in $PATH`, 127},
		{`open /nope: no such file or directory`, 127},
		{`exec: "/etc/passwd": permission denied`, 126},
		{`read /etc: is a directory`, 126},
		{`Conflict. The container name "/x" is already in use`, 125},
	}
	for _, tt := range tests {
		var se StatusError
		if !errors.As(toStatusError(errors.New(tt.msg)), &se) || se.StatusCode != tt.code {
			t.Errorf("toStatusError(%q) = %+v, want code %d", tt.msg, se, tt.code)
		}
		if want := "berth: " + tt.msg + "\n\nRun 'berth run --help' for more information"; se.Status != want {
			t.Errorf("status = %q, want %q", se.Status, want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	noDaemon := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"run"}, 1, "berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information\n"},
		{[]string{"run", "--foo", "busybox"}, 125, "unknown flag: --foo\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"},
		{[]string{"ps", "--foo"}, 125, "unknown flag: --foo\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n"},
		{[]string{"ps", "x"}, 1, "berth: 'berth ps' accepts no arguments\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n"},
		{[]string{"rename", "a"}, 1, "berth: 'berth rename' requires 2 arguments\n\nUsage:  berth rename CONTAINER NEW_NAME\n\nRun 'berth rename --help' for more information\n"},
		{[]string{"--bogus"}, 125, "unknown flag: --bogus\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more information\n"},
		{[]string{"frobnicate"}, 1, "berth: unknown command: berth frobnicate\n\nRun 'berth --help' for more information\n"},
		{[]string{"run", "--pull", "sometimes", "busybox"}, 125, "berth: invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or \"never\"\n\nRun 'berth run --help' for more information\n"},
		{[]string{"run", "Busybox"}, 125, "berth: invalid reference format: repository name (library/Busybox) must be lowercase\n\nRun 'berth run --help' for more information\n"},
		{[]string{"run", "-d", "-a", "stdout", "busybox"}, 1, "conflicting options: cannot specify both --attach and --detach\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Execute(context.Background(), append([]string{"-H", noDaemon}, tt.args...), io.NopCloser(strings.NewReader("")), &out, &errb)
			if code != tt.code || errb.String() != tt.stderr {
				t.Errorf("code=%d stderr=%q\nwant code=%d stderr=%q", code, errb.String(), tt.code, tt.stderr)
			}
		})
	}
}

func TestVersionFlagAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Execute(context.Background(), []string{"-v"}, nil, &out, &errb); code != 0 || out.String() != "Berth version "+Version+", build "+GitCommit+"\n" {
		t.Errorf("-v: code=%d out=%q err=%q", code, out.String(), errb.String())
	}
	// the shortcut for a lone --version prints what cobra does for it
	// after another flag
	fast := out.String()
	out.Reset()
	if code := Execute(context.Background(), []string{"-D", "--version"}, nil, &out, &errb); code != 0 || out.String() != fast {
		t.Errorf("-D --version: code=%d out=%q, the lone --version %q", code, out.String(), fast)
	}
	out.Reset()
	if code := Execute(context.Background(), []string{"run", "--help"}, nil, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "Usage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]") ||
		!strings.Contains(out.String(), "-h, --hostname string") {
		t.Errorf("run --help: code=%d out=%q", code, out.String())
	}
}

func TestHostSelection(t *testing.T) {
	t.Setenv("BERTH_HOST", "unix:///from/env.sock")
	c := &Cli{}
	api, err := c.Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if api.DaemonHost() != "unix:///from/env.sock" {
		t.Errorf("host from env = %q", api.DaemonHost())
	}
	c = &Cli{host: "unix:///from/flag.sock"}
	if api, _ := c.Client(context.Background()); api.DaemonHost() != "unix:///from/flag.sock" {
		t.Errorf("host from flag = %q", api.DaemonHost())
	}
	t.Setenv("BERTH_HOST", "")
	c = &Cli{}
	if api, _ := c.Client(context.Background()); api.DaemonHost() != DefaultHost {
		t.Errorf("default host = %q", api.DaemonHost())
	}
}

func TestUnknownCommand(t *testing.T) {
	root := newRootCommand(&Cli{})
	for _, tc := range []struct {
		args    []string
		unknown string // "" when the command exists or there is none
	}{
		{nil, ""},
		{[]string{"ps"}, ""},
		{[]string{"container", "ls"}, ""},
		{[]string{"help"}, ""},
		{[]string{"completion", "bash"}, ""},
		{[]string{"__complete", "ps", ""}, ""},
		{[]string{"frobnicate", "-it", "c", "sh"}, "frobnicate"},
		{[]string{"nosuch"}, "nosuch"},
		{[]string{"-H", "unix:///x", "ps"}, ""},
		{[]string{"-H", "unix:///x", "frobnicate", "-it"}, "frobnicate"},
		{[]string{"--host", "unix:///x", "nosuch"}, "nosuch"},
		{[]string{"--host=unix:///x", "nosuch"}, "nosuch"},
		{[]string{"-D", "nosuch"}, "nosuch"},
		{[]string{"-l", "debug", "ps"}, ""},
		{[]string{"--", "nosuch"}, ""},
		{[]string{"--version"}, ""},
	} {
		name, ok := unknownCommand(root, tc.args)
		if ok != (tc.unknown != "") || name != tc.unknown {
			t.Errorf("unknownCommand(%q) = %q, %v; want %q", tc.args, name, ok, tc.unknown)
		}
	}
}

func TestExecuteUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	code := Execute(context.Background(), []string{"frobnicate", "-it", "c", "sh"}, io.NopCloser(strings.NewReader("")), &out, &errb)
	want := "berth: unknown command: berth frobnicate\n\nRun 'berth --help' for more information\n"
	if code != 1 || errb.String() != want {
		t.Errorf("berth frobnicate -it: exit %d, stderr %q; want 1, %q", code, errb.String(), want)
	}
}
