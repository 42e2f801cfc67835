//go:build linux

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

func TestRunEcho(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		r := c.run(t, "run", "--rm", "busybox", "echo", "hello", "world").Success(t)
		if r.Stdout != "hello world\n" {
			t.Errorf("stdout = %q, want %q", r.Stdout, "hello world\n")
		}
		if r.Stderr != "" {
			t.Errorf("stderr = %q, want nothing", r.Stderr)
		}
	})
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	tests := []struct {
		name string
		args []string
		code int
		msg  string // in stderr
	}{
		{"zero", []string{"run", "--rm", "busybox", "true"}, 0, ""},
		{"container code", []string{"run", "--rm", "busybox", "sh", "-c", "exit 3"}, 3, ""},
		{"not found", []string{"run", "--rm", "busybox", "/no/such/binary"}, 127, "no such file or directory"},
		{"not in PATH", []string{"run", "--rm", "busybox", "nosuchcommand"}, 127, "executable file not found"},
		{"not executable", []string{"run", "--rm", "busybox", "/etc/passwd"}, 126, "permission denied"},
		{"bad flag", []string{"run", "--no-such-flag", "busybox", "true"}, 125, "unknown flag: --no-such-flag"},
		{"unknown image", []string{"run", "--rm", unique("noimage") + ":v1", "true"}, 125, ""},
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := c.run(t, tt.args...)
				if r.ExitCode != tt.code {
					t.Fatalf("want exit %d: %s", tt.code, r)
				}
				if tt.msg != "" && !strings.Contains(r.Stderr, tt.msg) {
					t.Errorf("want stderr to contain %q: %s", tt.msg, r)
				}
			})
		}
	})
}

func TestRunEnv(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# a comment\nFROMFILE=one\nSPACED=two words\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		out := c.ok(t, "run", "--rm", "-e", "FOO=bar", "-e", "EMPTY=", "--env-file", envFile, "busybox",
			"sh", "-c", `echo "$FOO|$EMPTY|$FROMFILE|$SPACED|$PATH"`)
		want := "bar||one|two words|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		if out != want {
			t.Errorf("env in container = %q, want %q", out, want)
		}
		// -e NAME without a value passes the client's own variable through
		cmd := c.cmd("run", "--rm", "-e", "PASSED", "busybox", "sh", "-c", `echo "$PASSED"`)
		cmd.Env = append(cmd.Env, "PASSED=from-client")
		if r := testutil.Run(t, cmd, nil).Success(t); r.Out() != "from-client" {
			t.Errorf("-e PASSED: got %q, want %q", r.Out(), "from-client")
		}
	})
}

func TestRunWorkdir(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if out := c.ok(t, "run", "--rm", "-w", "/tmp", "busybox", "pwd"); out != "/tmp" {
			t.Errorf("-w /tmp: pwd = %q", out)
		}
		// docker creates a working directory that does not exist
		if out := c.ok(t, "run", "--rm", "-w", "/new/dir", "busybox", "pwd"); out != "/new/dir" {
			t.Errorf("-w /new/dir: pwd = %q", out)
		}
		if out := c.ok(t, "run", "--rm", "busybox", "pwd"); out != "/" {
			t.Errorf("default: pwd = %q, want /", out)
		}
	})
}

func TestRunUser(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	tests := []struct {
		user string
		want string // id -u:id -g
	}{
		{"", "0:0"},
		{"nobody", "65534:65534"},
		{"root", "0:0"},
		{"1234", "1234:0"},
		{"1234:5678", "1234:5678"},
		{"nobody:root", "65534:0"},
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, tt := range tests {
			args := []string{"run", "--rm"}
			if tt.user != "" {
				args = append(args, "-u", tt.user)
			}
			args = append(args, "busybox", "sh", "-c", `echo "$(id -u):$(id -g)"`)
			if out := c.ok(t, args...); out != tt.want {
				t.Errorf("-u %q: id = %q, want %q", tt.user, out, tt.want)
			}
		}
		r := c.run(t, "run", "--rm", "-u", "nosuchuser", "busybox", "true")
		if r.ExitCode == 0 {
			t.Errorf("-u nosuchuser: want a failure: %s", r)
		}
	})
}

func TestRunEntrypoint(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if out := c.ok(t, "run", "--rm", "--entrypoint", "echo", "busybox", "from", "entrypoint"); out != "from entrypoint" {
			t.Errorf("--entrypoint echo: got %q", out)
		}
		name := unique("entry")
		c.ok(t, "create", "--name", name, "--entrypoint", "/bin/sh", "busybox", "-c", "exit 0")
		rmOnCleanup(t, d, name)
		if got := inspect(t, d, name, `{{json .Config.Entrypoint}} {{json .Config.Cmd}}`); got != `["/bin/sh"] ["-c","exit 0"]` {
			t.Errorf("Entrypoint and Cmd = %s", got)
		}
	})
}

func TestRunHostname(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		out := c.ok(t, "run", "--rm", "-h", "myhost", "busybox", "sh", "-c", "hostname; cat /etc/hostname; grep -c localhost /etc/hosts")
		if want := "myhost\nmyhost\n"; !strings.HasPrefix(out, want) || strings.HasSuffix(out, "\n0") {
			t.Errorf("-h myhost: got %q, want %q", out, want)
		}
		// without -h the hostname is the short id
		id := c.ok(t, "run", "-d", "busybox", "hostname")
		rmOnCleanup(t, d, id)
		c.ok(t, "wait", id)
		if got := c.ok(t, "logs", id); len(id) < 12 || got != id[:12] {
			t.Errorf("default hostname = %q, want the short id %q", got, id)
		}
		if got := c.ok(t, "run", "--rm", "busybox", "cat", "/etc/resolv.conf"); got == "" {
			t.Error("/etc/resolv.conf is empty")
		}
	})
}

func TestRunLabels(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("label")
		c.ok(t, "run", "--name", name, "-l", "com.example.k=v1", "--label", "other=", "busybox", "true")
		rmOnCleanup(t, d, name)
		if got := c.ok(t, "inspect", "-f", `{{index .Config.Labels "com.example.k"}}`, name); got != "v1" {
			t.Errorf("label com.example.k = %q, want v1", got)
		}
		if got := c.ok(t, "inspect", "-f", `{{json .Config.Labels}}`, name); got != `{"com.example.k":"v1","other":""}` {
			t.Errorf("labels = %s", got)
		}
	})
}

func TestRunRemove(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("rm")
		c.ok(t, "run", "--rm", "--name", name, "busybox", "true")
		if out := c.ok(t, "ps", "-a", "-q", "--filter", "name="+name); out != "" {
			t.Errorf("container still listed after run --rm: %q", out)
		}
		// a detached --rm container goes when it exits, with its state and rw layer
		name = unique("rmd")
		id := c.ok(t, "run", "-d", "--rm", "--name", name, "busybox", "sh", "-c", "sleep 0.5")
		waitFor(t, 30*time.Second, "the --rm container to be removed", func() bool {
			return d.Berth(t, "inspect", name).ExitCode != 0
		})
		for _, dir := range []string{filepath.Join(d.DataRoot, "containers", id), filepath.Join(d.ExecRoot, "containers", id)} {
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("%s left behind after --rm", dir)
			}
		}
		for _, m := range testutil.MountsUnder(d.Root) {
			if strings.Contains(m, id) {
				t.Errorf("mount %s left behind after --rm", m)
			}
		}
		// stopping a --rm container removes it too
		name = unique("rms")
		c.ok(t, "run", "-d", "--rm", "--name", name, "busybox", "sleep", "300")
		c.ok(t, "stop", "-t", "1", name)
		waitFor(t, 30*time.Second, "the stopped --rm container to be removed", func() bool {
			return d.Berth(t, "inspect", name).ExitCode != 0
		})
	})
}

func TestRunDetach(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("detach")
		r := c.run(t, "run", "-d", "--name", name, "busybox", "sleep", "300").Success(t)
		rmOnCleanup(t, d, name)
		if !fullID.MatchString(strings.TrimSuffix(r.Stdout, "\n")) || !strings.HasSuffix(r.Stdout, "\n") {
			t.Fatalf("run -d printed %q, want a 64-hex id and a newline", r.Stdout)
		}
		id := r.Out()
		if got := inspect(t, d, name, "{{.Id}} {{.State.Status}} {{.State.Running}}"); got != id+" running true" {
			t.Errorf("inspect = %q, want %q", got, id+" running true")
		}
		// every command accepts the full id, a unique prefix and the name
		for _, ref := range []string{id, id[:12], id[:7], name} {
			if got := c.ok(t, "inspect", "-f", "{{.Id}}", ref); got != id {
				t.Errorf("inspect %s = %q, want %q", ref, got, id)
			}
		}
	})
}

func TestRunStdin(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		r := c.runStdin(t, "line one\nline two\n", "run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo to-stderr >&2").Success(t)
		if r.Stdout != "line one\nline two\n" {
			t.Errorf("stdout = %q", r.Stdout)
		}
		if r.Stderr != "to-stderr\n" {
			t.Errorf("stderr = %q, want %q (stdout and stderr stay separate without -t)", r.Stderr, "to-stderr\n")
		}
		// without -i the container's stdin is closed
		r = c.runStdin(t, "ignored\n", "run", "--rm", "busybox", "cat").Success(t)
		if r.Stdout != "" {
			t.Errorf("without -i: stdout = %q, want nothing", r.Stdout)
		}
	})
}

func TestCreateStart(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("create")
		id := c.ok(t, "create", "--name", name, "busybox", "echo", "created-then-started")
		rmOnCleanup(t, d, name)
		if !fullID.MatchString(id) {
			t.Errorf("create printed %q, want a 64-hex id", id)
		}
		if got := inspect(t, d, name, "{{.State.Status}}"); got != "created" {
			t.Errorf("status after create = %q, want created", got)
		}
		r := c.run(t, "start", "-a", name).Success(t)
		if r.Stdout != "created-then-started\n" {
			t.Errorf("start -a: stdout = %q", r.Stdout)
		}
		if got := inspect(t, d, name, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 0" {
			t.Errorf("status after start -a = %q, want exited 0", got)
		}
		// start -a returns the container's exit code
		name = unique("create")
		c.ok(t, "create", "--name", name, "busybox", "sh", "-c", "exit 4")
		rmOnCleanup(t, d, name)
		if r := c.run(t, "start", "-a", name); r.ExitCode != 4 {
			t.Errorf("start -a of a container exiting 4: %s", r)
		}
		// start -i streams stdin
		name = unique("create")
		c.ok(t, "create", "-i", "--name", name, "busybox", "cat")
		rmOnCleanup(t, d, name)
		if r := c.runStdin(t, "via-start\n", "start", "-a", "-i", name).Success(t); r.Stdout != "via-start\n" {
			t.Errorf("start -a -i: stdout = %q", r.Stdout)
		}
	})
}
