//go:build linux

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// defaultCapEff is docker's default capability set as /proc/<pid>/status
// shows it.
const defaultCapEff = "00000000a80425fb"

// hostCapBnd is the bounding set of this (root) test process, the same as
// berthd's: what --privileged and --cap-add ALL give.
func hostCapBnd(t *testing.T) string {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("no CapBnd in /proc/self/status")
	return ""
}

// capEff is the line the container's shell prints for its effective set.
const capEff = "grep CapEff /proc/self/status | cut -f2"

// TestIsolationDefaults proves a default container is confined: it cannot
// mount, cannot load a kernel module, cannot write /proc/sys, sees no host
// process, and holds docker's default capabilities only.
func TestIsolationDefaults(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		c.run(t, "run", "--rm", "busybox", "sh", "-c", "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m").Fails(t, 1, "permission denied")
		c.run(t, "run", "--rm", "busybox", "sh", "-c", "head -c 4096 /dev/urandom > /tmp/x.ko && insmod /tmp/x.ko").Fails(t, 1, "Operation not permitted")
		c.run(t, "run", "--rm", "busybox", "sh", "-c", "echo 1 > /proc/sys/kernel/ns_last_pid").Fails(t, 1, "Read-only file system")
		// the container's own processes only: its shell (pid 1) and ps
		out := c.ok(t, "run", "--rm", "busybox", "sh", "-c", "ls /proc | grep -c '^[0-9]'; cat /proc/1/cmdline | tr '\\0' ' '; echo; "+capEff)
		got := lines(out)
		if len(got) != 3 || got[0] == "" || len(got[0]) > 1 || !strings.HasPrefix(got[1], "sh -c") || got[2] != defaultCapEff {
			t.Errorf("processes, pid 1 and capabilities of a default container = %q, want at most 9 processes, sh as pid 1, CapEff %s", got, defaultCapEff)
		}
		// no host device beyond docker's defaults
		c.run(t, "run", "--rm", "busybox", "ls", "/dev/kmsg").Fails(t, 1, "No such file or directory")
	})
}

// TestIsolationPrivileged proves --privileged lifts the confinement: every
// capability of the host's bounding set (CAP_SYS_RESOURCE is absent from it
// on our machines and must not be asked for), mount, module loading not
// refused for lack of privilege, the host's devices.
func TestIsolationPrivileged(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	bnd := hostCapBnd(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		out := c.ok(t, "run", "--rm", "--privileged", "busybox", "sh", "-c",
			"mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted; "+capEff+"; ls /dev/kmsg; echo 1 > /proc/sys/kernel/ns_last_pid && echo wrote")
		for _, want := range []string{"mounted", bnd, "/dev/kmsg", "wrote"} {
			if !contains(lines(out), want) {
				t.Errorf("privileged container output lacks %q:\n%s", want, out)
			}
		}
		res := c.run(t, "run", "--rm", "--privileged", "busybox", "sh", "-c", "head -c 4096 /dev/urandom > /tmp/x.ko && insmod /tmp/x.ko")
		if strings.Contains(res.Stderr, "Operation not permitted") {
			t.Errorf("privileged insmod refused for lack of privilege: %s", res)
		}
	})
}

// TestIsolationCapabilities checks --cap-add and --cap-drop, ALL, names with
// and without CAP_, any case, and docker's message for an unknown name.
func TestIsolationCapabilities(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	bnd := hostCapBnd(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--cap-drop", "ALL", "--cap-add", "net_admin"}, "0000000000001000"},
			{[]string{"--cap-drop", "all", "--cap-add", "CAP_NET_ADMIN", "--cap-add", "Kill"}, "0000000000001020"},
			{[]string{"--cap-add", "ALL"}, bnd},
			{[]string{"--cap-drop", "CHOWN", "--cap-drop", "net_raw"}, "00000000a80405fa"},
		} {
			args := append(append([]string{"run", "--rm"}, tc.args...), "busybox", "sh", "-c", capEff)
			if got := c.ok(t, args...); got != tc.want {
				t.Errorf("%v: CapEff %s, want %s", tc.args, got, tc.want)
			}
		}
		c.ok(t, "run", "--rm", "--cap-add", "SYS_ADMIN", "--security-opt", "apparmor=unconfined", "busybox", "sh", "-c", "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m")
		c.run(t, "run", "--rm", "--cap-drop", "chown", "busybox", "chown", "nobody", "/tmp").Fails(t, 1, "Operation not permitted")
		c.run(t, "run", "--rm", "--cap-add", "foo", "busybox", "true").Fails(t, 125, `invalid CapAdd: unknown capability: "CAP_FOO"`)
		c.run(t, "run", "--rm", "--cap-drop", "CAP_BAR", "busybox", "true").Fails(t, 125, `invalid CapDrop: unknown capability: "CAP_BAR"`)
	})
}

// TestIsolationSecurityOpts checks no-new-privileges and seccomp: the
// default profile, none, and a profile from a file (read by the CLI).
func TestIsolationSecurityOpts(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	profile := filepath.Join(t.TempDir(), "no-mkdir.json")
	if err := os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		status := func(args ...string) string {
			args = append(append([]string{"run", "--rm"}, args...), "busybox", "sh", "-c", "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\\t' | tr '\\n' ' '")
			return c.ok(t, args...)
		}
		if got := status(); got != "NoNewPrivs:0 Seccomp:2" {
			t.Errorf("default: %q", got)
		}
		if got := status("--security-opt", "no-new-privileges"); got != "NoNewPrivs:1 Seccomp:2" {
			t.Errorf("no-new-privileges: %q", got)
		}
		if got := status("--security-opt", "seccomp=unconfined"); got != "NoNewPrivs:0 Seccomp:0" {
			t.Errorf("seccomp=unconfined: %q", got)
		}
		c.run(t, "run", "--rm", "--security-opt", "seccomp="+profile, "busybox", "mkdir", "/tmp/x").Fails(t, 1, "Operation not permitted")
		// systempaths=unconfined: /proc/sys is no longer a read-only mount, /proc/kcore no longer masked
		c.ok(t, "run", "--rm", "busybox", "grep", "-q", " /proc/sys ", "/proc/mounts")
		c.run(t, "run", "--rm", "--security-opt", "systempaths=unconfined", "busybox", "sh", "-c", "grep -e ' /proc/sys ' -e ' /proc/kcore ' /proc/mounts").Fails(t, 1)
		c.ok(t, "run", "--rm", "busybox", "mkdir", "/tmp/x")
	})
}

// TestIsolationDevices checks --device host:ctr:perms (the node appears,
// only the given access is allowed) and --device-cgroup-rule.
func TestIsolationDevices(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse on this host")
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		out := c.ok(t, "run", "--rm", "--device", "/dev/fuse:/dev/myfuse:r", "busybox", "sh", "-c", "ls -l /dev/myfuse | cut -c1; : < /dev/myfuse && echo read-ok")
		if got := lines(out); len(got) != 2 || got[0] != "c" || got[1] != "read-ok" {
			t.Errorf("--device r: %q", out)
		}
		c.run(t, "run", "--rm", "--device", "/dev/fuse:/dev/myfuse:r", "busybox", "sh", "-c", ": > /dev/myfuse").Fails(t, 1, "Operation not permitted")
		// mknod is allowed by default, opening the node is not, unless a rule allows it
		c.run(t, "run", "--rm", "busybox", "sh", "-c", "mknod /tmp/f c 10 229 && : < /tmp/f").Fails(t, 1, "Operation not permitted")
		c.ok(t, "run", "--rm", "--device-cgroup-rule", "c 10:229 r", "busybox", "sh", "-c", "mknod /tmp/f c 10 229 && : < /tmp/f")
		c.run(t, "run", "--rm", "--device", "/dev/berth-nonexistent", "busybox", "true").Fails(t, 127, `error gathering device information while adding custom device "/dev/berth-nonexistent": no such file or directory`)
		c.run(t, "run", "--rm", "--device-cgroup-rule", "x 1:3 rwm", "busybox", "true").Fails(t, 125, "invalid device cgroup format 'x 1:3 rwm'")
	})
}

// nsOf is the namespace link of one of the test process's namespaces.
func nsOf(t *testing.T, kind string) string {
	t.Helper()
	l, err := os.Readlink("/proc/self/ns/" + kind)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestIsolationNamespaceModes checks --ipc, --pid and --uts with host,
// private and none, --shm-size, --group-add and --sysctl.
func TestIsolationNamespaceModes(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	hostname, _ := os.Hostname()
	hostIPC, hostPID, hostUTS := nsOf(t, "ipc"), nsOf(t, "pid"), nsOf(t, "uts")
	eachCLI(t, d, func(t *testing.T, c cli) {
		ns := func(kind string, args ...string) string {
			args = append(append([]string{"run", "--rm"}, args...), "busybox", "readlink", "/proc/self/ns/"+kind)
			return c.ok(t, args...)
		}
		if got := ns("ipc", "--ipc", "host"); got != hostIPC {
			t.Errorf("--ipc host: %s, want %s", got, hostIPC)
		}
		for _, mode := range []string{"private", "shareable", "none"} {
			if got := ns("ipc", "--ipc", mode); got == hostIPC {
				t.Errorf("--ipc %s shares the host's IPC namespace", mode)
			}
		}
		if got := ns("pid", "--pid", "host"); got != hostPID {
			t.Errorf("--pid host: %s, want %s", got, hostPID)
		}
		if got := ns("uts", "--uts", "host"); got != hostUTS {
			t.Errorf("--uts host: %s, want %s", got, hostUTS)
		}
		if got := c.ok(t, "run", "--rm", "--uts", "host", "busybox", "hostname"); got != hostname {
			t.Errorf("--uts host hostname %q, want %q", got, hostname)
		}
		if got := c.ok(t, "run", "--rm", "--shm-size", "10m", "busybox", "sh", "-c", "df -k /dev/shm | tail -1 | awk '{print $2}'"); got != "10240" {
			t.Errorf("--shm-size 10m: /dev/shm of %s KiB", got)
		}
		c.run(t, "run", "--rm", "--ipc", "none", "busybox", "sh", "-c", "grep ' /dev/shm ' /proc/mounts").Fails(t, 1)
		if got := c.ok(t, "run", "--rm", "--group-add", "1234", "--group-add", "nobody", "busybox", "id", "-G"); got != "0 1234 65534" {
			t.Errorf("--group-add: id -G = %q", got)
		}
		if got := c.ok(t, "run", "--rm", "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=123456", "busybox", "sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax | tr '\\n' ' '"); got != "1 123456" {
			t.Errorf("--sysctl: %q", got)
		}
		c.run(t, "run", "--rm", "--sysctl", "kernel.hostname=x", "busybox", "true").Fails(t, 125, "sysctl 'kernel.hostname=x' is not allowed")
		c.run(t, "run", "--rm", "--ipc", "bogus", "busybox", "true").Fails(t, 125, "invalid IPC mode: bogus")
	})
	// the API refuses what the docker CLI lets through but the runtime
	// would have to apply to the host
	d.Berth(t, "run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "busybox", "true").Fails(t, 125, `sysctl "net.ipv4.ip_forward" not allowed in host network namespace`)
}

// TestIsolationJoinContainer proves --ipc and --pid container:<x> really
// join the other container's namespaces (issue 13's kubernetes trial found
// they did not), and docker's refusals.
func TestIsolationJoinContainer(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		donor := unique("donor")
		rmOnCleanup(t, d, donor)
		c.ok(t, "run", "-d", "--name", donor, "--ipc", "shareable", "busybox", "sh", "-c", "echo shared > /dev/shm/mark; exec sleep 300")
		waitFor(t, 10*time.Second, "the donor's /dev/shm mark", func() bool {
			return d.Berth(t, "exec", donor, "cat", "/dev/shm/mark").Out() == "shared"
		})
		donorIPC := d.Berth(t, "exec", donor, "readlink", "/proc/self/ns/ipc").Success(t).Out()
		donorPID := d.Berth(t, "exec", donor, "readlink", "/proc/self/ns/pid").Success(t).Out()

		out := c.ok(t, "run", "--rm", "--ipc", "container:"+donor, "--pid", "container:"+donor, "busybox", "sh", "-c",
			"readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid; cat /dev/shm/mark; cat /proc/1/cmdline | tr '\\0' ' '")
		want := []string{donorIPC, donorPID, "shared", "sleep 300"}
		if got := lines(out); len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || strings.TrimSpace(got[3]) != want[3] {
			t.Errorf("joined namespaces: %q, want %q", got, want)
		}
		// a joiner's write is seen by the donor
		c.ok(t, "run", "--rm", "--ipc", "container:"+donor, "busybox", "sh", "-c", "echo back > /dev/shm/reply")
		if got := d.Berth(t, "exec", donor, "cat", "/dev/shm/reply").Success(t).Out(); got != "back" {
			t.Errorf("donor reads %q from the joiner's /dev/shm write", got)
		}
		// recorded by id, as docker does
		joiner := unique("joiner")
		rmOnCleanup(t, d, joiner)
		c.ok(t, "create", "--name", joiner, "--ipc", "container:"+donor, "--pid", "container:"+donor, "busybox", "true")
		id := inspect(t, d, donor, "{{.Id}}")
		if got := inspect(t, d, joiner, "{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}}"); got != "container:"+id+" container:"+id {
			t.Errorf("joiner's modes: %q", got)
		}

		private := unique("private")
		rmOnCleanup(t, d, private)
		c.ok(t, "run", "-d", "--name", private, "busybox", "sleep", "300")
		c.run(t, "run", "--rm", "--ipc", "container:"+private, "busybox", "true").Fails(t, 125, "non-shareable IPC (hint: use IpcMode:shareable for the donor container)")
		d.Berth(t, "stop", "-t", "0", donor).Success(t)
		c.run(t, "run", "--rm", "--pid", "container:"+donor, "busybox", "true").Fails(t, 125, "is not running")
	})
}

// TestIsolationStopSignalAndTimeout checks that --stop-signal and
// --stop-timeout reach `stop`: the signal is the one the process traps, and
// the kill comes after the container's own timeout.
func TestIsolationStopSignalAndTimeout(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("stopsig")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "--stop-signal", "USR1", "--stop-timeout", "2", "busybox", "sh", "-c",
			"trap 'echo got-usr1' USR1; echo ready; while true; do sleep 1; done")
		waitFor(t, 10*time.Second, "the trap", func() bool { return strings.Contains(d.Berth(t, "logs", name).Stdout, "ready") })
		if got := inspect(t, d, name, "{{.Config.StopSignal}} {{.Config.StopTimeout}}"); got != "USR1 2" {
			t.Errorf("inspect: %q", got)
		}
		began := time.Now()
		c.ok(t, "stop", name)
		took := time.Since(began)
		if took < 2*time.Second || took > 8*time.Second {
			t.Errorf("stop took %s, want the 2s --stop-timeout", took)
		}
		if logs := d.Berth(t, "logs", name).Stdout; !strings.Contains(logs, "got-usr1") {
			t.Errorf("the process never got SIGUSR1: %q", logs)
		}
		if got := inspect(t, d, name, "{{.State.ExitCode}}"); got != "137" {
			t.Errorf("exit code %s, want 137 (killed after the timeout)", got)
		}
		c.run(t, "run", "--rm", "--stop-signal", "FOO", "busybox", "true").Fails(t, 125, "Invalid signal: FOO")
	})
}
