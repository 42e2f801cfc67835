//go:build linux

package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-project/berth/internal/testutil"
)

// The isolation regression suite: what a default container may do, each
// fact beside docker's documented default. The "docker" column is what
// docker 20.10.24 (Debian 12's docker.io, runc 1.1.5+ds1-1+deb12u1) gives
// for the same probe on this machine's kernel; where berth differs it
// follows today's moby and containerd, and says so.

var staticBinaries struct {
	mu    sync.Mutex
	built map[string]string
}

// staticBinary builds the Go command in testdata/<dir> as a static
// binary, once per test process, and returns its path.
func staticBinary(t testing.TB, dir string) string {
	t.Helper()
	staticBinaries.mu.Lock()
	defer staticBinaries.mu.Unlock()
	if p, ok := staticBinaries.built[dir]; ok {
		return p
	}
	tmp, err := os.MkdirTemp("", "berth-testbin-")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(tmp, filepath.Base(dir))
	cmd := exec.Command("go", "build", "-o", p, ".")
	cmd.Dir = filepath.Join("testdata", dir)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/%s: %v\n%s", dir, err, out)
	}
	if staticBinaries.built == nil {
		staticBinaries.built = map[string]string{}
	}
	staticBinaries.built[dir] = p
	return p
}

// removeStaticBinaries deletes what staticBinary built (TestMain, at the
// end).
func removeStaticBinaries() {
	staticBinaries.mu.Lock()
	defer staticBinaries.mu.Unlock()
	for _, p := range staticBinaries.built {
		os.RemoveAll(filepath.Dir(p))
	}
	staticBinaries.built = nil
}

// probeTar is an image's root FROM scratch holding the prober as /probe,
// a setuid-root copy as /suid-probe and a /tmp.
func probeTar(t *testing.T) []byte {
	t.Helper()
	bin, err := os.ReadFile(staticBinary(t, "isolation/probe"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}))
	for name, mode := range map[string]int64{"probe": 0o755, "suid-probe": 0o4755} {
		must(tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(bin))}))
		_, err := tw.Write(bin)
		must(err)
	}
	must(tw.Close())
	return buf.Bytes()
}

// probeImage imports probeTar as an image and returns its name.
func probeImage(t *testing.T, d *testutil.Daemon) string {
	t.Helper()
	name := unique("probe") + ":1"
	d.BerthStdin(t, bytes.NewReader(probeTar(t)), "import", "-", name).Success(t)
	t.Cleanup(func() { d.Berth(t, "rmi", "-f", name) })
	return name
}

// isolationDockerHostEnv names the socket of a private dockerd to run the
// same probe against, so that the table's docker column can be checked
// (it was, against Debian 12's docker.io 20.10.24).
const isolationDockerHostEnv = "BERTH_ISOLATION_DOCKER_HOST"

// probeReport runs `probe report` in a new container and returns its
// facts by key ("CapEff", "masked /proc/keys", "syscall keyctl").
func probeReport(t *testing.T, c cli, image, blockDev string, args ...string) map[string]string {
	t.Helper()
	args = append(append([]string{"run", "--rm", "--network", "none"}, args...), image, "/probe", "report", blockDev)
	return parseFacts(c.ok(t, args...))
}

// parseFacts reads the report's "key... value" lines.
func parseFacts(report string) map[string]string {
	facts := map[string]string{}
	for _, l := range lines(report) {
		if f := strings.Fields(l); len(f) >= 2 {
			facts[strings.Join(f[:len(f)-1], " ")] = f[len(f)-1]
		}
	}
	return facts
}

// tarFile is the content of the first file of a tar stream, "" when it
// has none.
func tarFile(r io.Reader) string {
	tr := tar.NewReader(r)
	if _, err := tr.Next(); err != nil {
		return ""
	}
	b, _ := io.ReadAll(tr)
	return string(b)
}

// hostBlockDevice is MAJ:MIN of one of the host's block devices, "" when
// it has none.
func hostBlockDevice(t *testing.T) string {
	entries, _ := os.ReadDir("/sys/dev/block")
	for _, e := range entries {
		if strings.Contains(e.Name(), ":") {
			return e.Name()
		}
	}
	return ""
}

// isolationFact is one row of the table: the probe's key, docker's
// value, berth's when it differs on purpose, and why.
type isolationFact struct {
	key, docker, berth, why string
}

func (f isolationFact) want() string {
	if f.berth != "" {
		return f.berth
	}
	return f.docker
}

// hidden and readOnly fold the kernel's variation: a masked path this
// kernel does not have is as hidden as one masked; a read-only path it
// does not have is as read-only.
func foldFact(key, v string) string {
	switch {
	case strings.HasPrefix(key, "masked ") && (v == "absent" || v == "empty"):
		return "hidden"
	case strings.HasPrefix(key, "readonly ") && (v == "absent" || v == "ro"):
		return "ro"
	}
	return v
}

// dockerDefaults is the table: docker 20.10.24's default container beside
// berth's.
var dockerDefaults = func() []isolationFact {
	facts := []isolationFact{
		{key: "CapEff", docker: defaultCapEff},
		{key: "CapPrm", docker: defaultCapEff},
		{key: "CapBnd", docker: defaultCapEff},
		{key: "CapInh", docker: "0000000000000000"},
		{key: "CapAmb", docker: "0000000000000000"},
		{key: "NoNewPrivs", docker: "0"},
		{key: "Seccomp", docker: "2"},
		{key: "blockdevs-in-dev", docker: "0"},
		{key: "mknod-block", docker: "OK"}, // CAP_MKNOD and the "b *:* m" rule
		{key: "open-block", docker: "EPERM"},
		{key: "mknod-mem", docker: "OK"},
		{key: "open-mem", docker: "EPERM"},
		{key: "masked /proc/interrupts", docker: "visible", berth: "hidden", why: "masked by containerd 2.x and moby 28"},
		{key: "syscall clone3", docker: "ENOSYS"}, // so that libcs fall back to clone, which the profile filters
		{key: "syscall clock_adjtime", docker: "EFAULT"},
		{key: "syscall name_to_handle_at", docker: "EPERM", berth: "EFAULT", why: "allowed by moby's profile since docker 25 (moby/profiles v0.3.0)"},
	}
	for _, p := range []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats", "/sys/devices/virtual/powercap", "/sys/firmware"} {
		facts = append(facts, isolationFact{key: "masked " + p, docker: "hidden"})
	}
	for _, p := range []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys"} {
		facts = append(facts, isolationFact{key: "readonly " + p, docker: "ro"})
	}
	for _, s := range deniedSyscalls {
		facts = append(facts, isolationFact{key: "syscall " + s, docker: "EPERM"})
	}
	return facts
}()

// deniedSyscalls are those of docker's documented list the probe calls
// that its profile refuses with EPERM in a default container.
var deniedSyscalls = []string{
	"unshare", "unshare-newuser", "clone-newuser", "keyctl", "add_key", "request_key",
	"kexec_load", "kexec_file_load", "open_by_handle_at", "mount", "umount2", "pivot_root",
	"setns", "bpf", "perf_event_open", "userfaultfd", "init_module", "finit_module",
	"delete_module", "acct", "swapon", "swapoff", "reboot", "settimeofday", "clock_settime",
	"ioperm", "iopl", "quotactl", "lookup_dcookie", "nfsservctl", "uselib", "ustat", "sysfs",
	"_sysctl", "create_module", "get_kernel_syms", "query_module",
}

// seccompOnly are the denied syscalls whose refusal comes from the
// profile alone: without it (seccomp=unconfined) the kernel answers them
// with another errno, as they check their arguments before privileges.
var seccompOnly = []string{"unshare", "unshare-newuser", "keyctl", "add_key", "request_key", "kexec_load", "open_by_handle_at", "setns", "bpf", "mount"}

// TestIsolationDockerDefaults checks a default container against docker's
// defaults in one probe run per client: the capability sets (CapEff,
// CapPrm, CapBnd exactly docker's 14; no inheritable or ambient ones),
// seccomp's denials, the masked and read-only /proc and /sys paths, and
// the devices cgroup (a node of a host block device or of /dev/mem can be
// made, as in docker, but not opened). It then proves the profile, not the
// capabilities, is what refuses the seccompOnly syscalls.
func TestIsolationDockerDefaults(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	image := probeImage(t, d)
	dev := hostBlockDevice(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		got := probeReport(t, c, image, dev)
		var table strings.Builder
		fmt.Fprintf(&table, "%-36s %-18s %-18s\n", "fact", "docker 20.10", "berth")
		for _, f := range dockerDefaults {
			if dev == "" && strings.HasSuffix(f.key, "-block") {
				continue
			}
			v := foldFact(f.key, got[f.key])
			fmt.Fprintf(&table, "%-36s %-18s %-18s %s\n", f.key, f.docker, v, f.why)
			if v != f.want() {
				t.Errorf("%s: berth gives %q, want %q (docker 20.10: %q)", f.key, v, f.want(), f.docker)
			}
		}
		if c.name == "berth" {
			t.Logf("default container, docker beside berth:\n%s", table.String())
		}
	})
	if host := os.Getenv(isolationDockerHostEnv); host != "" {
		t.Run("dockerd", func(t *testing.T) {
			docker := func(stdin []byte, args ...string) string {
				cmd := exec.Command("docker", append([]string{"-H", host}, args...)...)
				cmd.Stdin = bytes.NewReader(stdin)
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("docker %v: %v", args, err)
				}
				return string(out)
			}
			img := unique("probe") + ":1"
			docker(probeTar(t), "import", "-", img)
			defer docker(nil, "rmi", img)
			got := parseFacts(docker(nil, "run", "--rm", "--network", "none", img, "/probe", "report", dev))
			for _, f := range dockerDefaults {
				if v := foldFact(f.key, got[f.key]); v != f.docker && !(dev == "" && strings.HasSuffix(f.key, "-block")) {
					t.Errorf("%s: dockerd gives %q, the table says %q", f.key, v, f.docker)
				}
			}
		})
	}
	unconfined := probeReport(t, cli{name: "berth", d: d}, image, dev, "--security-opt", "seccomp=unconfined")
	if unconfined["Seccomp"] != "0" {
		t.Errorf("seccomp=unconfined: Seccomp %q", unconfined["Seccomp"])
	}
	for _, s := range seccompOnly {
		if v := unconfined["syscall "+s]; v == "EPERM" || v == "" {
			t.Errorf("%s without the profile: %q, want the kernel's own errno (the test no longer tells the profile's denial from the capabilities')", s, v)
		}
	}
}

// TestIsolationNoNewPrivileges checks setuid: a setuid-root binary run by
// uid 1000 runs as root by default (docker: euid 0), and as 1000 with
// --security-opt no-new-privileges (docker: 1000, NoNewPrivs 1).
func TestIsolationNoNewPrivileges(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	image := probeImage(t, d)
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, tc := range []struct {
			opts []string
			want string // docker 20.10's
		}{
			{nil, "0"},
			{[]string{"--security-opt", "no-new-privileges"}, "1000"},
		} {
			args := append(append([]string{"run", "--rm", "--network", "none", "-u", "1000"}, tc.opts...), image, "/suid-probe", "euid")
			if got := c.ok(t, args...); got != tc.want {
				t.Errorf("%v: setuid-root binary runs with euid %s, want %s as docker", tc.opts, got, tc.want)
			}
		}
		// an exec is held as the container's process (docker: 1000, NoNewPrivs 1)
		name := unique("nnp")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "--network", "none", "--security-opt", "no-new-privileges", image, "/probe", "sleep")
		if got := c.ok(t, "exec", "-u", "1000", name, "/suid-probe", "euid"); got != "1000" {
			t.Errorf("exec in a no-new-privileges container: setuid-root binary runs with euid %s, want 1000", got)
		}
	})
}

// TestIsolationCopySwapRace is CVE-2018-15664: a container swaps a folder
// for a link to "/" and back as fast as it can (renameat2 RENAME_EXCHANGE)
// while copies go out of and into that folder. No copy may read a host
// file (/w/etc/os-release is the container's "inside"; the host's
// /etc/os-release is another, and the container's / has none) nor write
// one on the host's "/". BERTH_CP_RACE_ITERATIONS sets the copies
// each way through the API (default 100); each CLI copies a few more.
func TestIsolationCopySwapRace(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	image := probeImage(t, d)
	name := unique("swap")
	rmOnCleanup(t, d, name)
	d.Berth(t, "run", "-d", "--name", name, "--network", "none", image, "/probe", "swap", "/w").Success(t)
	waitFor(t, 10*time.Second, "the swapping loop", func() bool {
		return strings.Contains(d.Berth(t, "logs", name).Stdout, "swapping")
	})
	if _, err := os.Stat("/etc/os-release"); err != nil {
		t.Skip("the host has no /etc/os-release to try to read")
	}
	iterations := 100
	if s := os.Getenv("BERTH_CP_RACE_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("BERTH_CP_RACE_ITERATIONS=%q: %v", s, err)
		}
		iterations = n
	}
	planted := unique("cp-race")
	hostFile := filepath.Join("/", planted)
	t.Cleanup(func() { os.Remove(hostFile) })
	var payload bytes.Buffer
	tw := tar.NewWriter(&payload)
	_ = tw.WriteHeader(&tar.Header{Name: planted, Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
	_, _ = tw.Write([]byte("in\n"))
	_ = tw.Close()

	ctx := context.Background()
	api := d.Client(t)
	leaks, copiedIn := 0, 0
	for range iterations {
		if res, err := api.CopyFromContainer(ctx, name, client.CopyFromContainerOptions{SourcePath: "/w/etc/os-release"}); err == nil {
			if body := tarFile(res.Content); body != "" && body != "inside\n" {
				leaks++
				t.Errorf("GET /archive of /w/etc/os-release read the host's file: %q", body)
			}
			res.Content.Close()
		}
		if _, err := api.CopyToContainer(ctx, name, client.CopyToContainerOptions{DestinationPath: "/w", Content: bytes.NewReader(payload.Bytes())}); err == nil {
			copiedIn++
		}
		if _, err := os.Stat(hostFile); err == nil {
			leaks++
			t.Fatalf("PUT /archive into /w wrote %s on the host", hostFile)
		}
	}
	if copiedIn == 0 {
		t.Errorf("no copy into the swapped folder succeeded in %d tries: the race was not exercised", iterations)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		dir := t.TempDir()
		local := filepath.Join(dir, planted)
		if err := os.WriteFile(local, []byte("in\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out")
		for range 5 {
			os.Remove(out)
			c.run(t, "cp", name+":/w/etc/os-release", out)
			if body, err := os.ReadFile(out); err == nil && len(body) > 0 && string(body) != "inside\n" {
				leaks++
				t.Errorf("cp out of /w/etc/os-release read the host's file: %q", body)
			}
			c.run(t, "cp", local, name+":/w/")
			if _, err := os.Stat(hostFile); err == nil {
				leaks++
				t.Fatalf("cp into /w/ wrote %s on the host", hostFile)
			}
		}
	})
	t.Logf("%d copies each way through the API and 5 through each CLI while /w swapped: %d into the container through the API, %d leaks", iterations, copiedIn, leaks)
}

// TestIsolationRuncLeakedFds is CVE-2024-21626 against the runc in use:
// a working directory of /proc/self/fd/N (N from 3 to 9, where runc
// before 1.1.12 leaked a host folder's fd), for a new container or an
// exec, must either make the start fail or leave the process inside the
// container (getcwd works), and the daemon must not warn of it.
func TestIsolationRuncLeakedFds(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	image := probeImage(t, d)
	name := unique("fds")
	rmOnCleanup(t, d, name)
	d.Berth(t, "run", "-d", "--name", name, "--network", "none", image, "/probe", "sleep").Success(t)
	var wg sync.WaitGroup
	for n := 3; n <= 9; n++ {
		cwd := "/proc/self/fd/" + strconv.Itoa(n)
		// the advisory's two attacks: a container's working directory,
		// and an exec's
		for _, args := range [][]string{
			{"run", "--rm", "--network", "none", "-w", cwd, image, "/probe", "cwd"},
			{"exec", "-w", cwd, name, "/probe", "cwd"},
		} {
			wg.Go(func() {
				res := d.Berth(t, args...)
				switch {
				case res.ExitCode == 0 && strings.HasPrefix(res.Out(), "/"):
				case res.ExitCode >= 125:
				default:
					t.Errorf("%s -w %s: the process ran outside the container's root (CVE-2024-21626): %s", args[0], cwd, res)
				}
			})
		}
	}
	wg.Wait()
	if out := d.Berth(t, "info").Success(t).Combined(); strings.Contains(out, "CVE-2024-21626") {
		t.Errorf("berthd warns that its runc is open to CVE-2024-21626:\n%s", out)
	}
}

// TestIsolationDaemonOptions checks the daemon-wide side on a berthd of
// its own: dockerd's --no-new-privileges (a setuid-root binary no longer
// raises uid 1000, unless the container says no-new-privileges=false),
// and the warning at boot and in info for a runc that says 1.1.11 and
// lacks the fix for CVE-2024-21626.
func TestIsolationDaemonOptions(t *testing.T) {
	t.Parallel()
	testutil.RequiresRoot(t)
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("no runc in PATH")
	}
	fake := filepath.Join(t.TempDir(), "runc")
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then printf 'runc version 1.1.11\\ncommit: v1.1.11-0-g4bccb38c\\n'; exit 0; fi\nexec " + runc + " \"$@\"\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d := testutil.StartDaemon(t, testutil.WithArgs("--default-runtime", fake, "--no-new-privileges"))
	const want = "WARNING: runc 1.1.11 is older than 1.1.12 and open to CVE-2024-21626"
	if !strings.Contains(d.Log(), want) {
		t.Errorf("berthd's log lacks %q:\n%s", want, d.LogTail(20))
	}
	image := probeImage(t, d)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if out := c.run(t, "info").Success(t).Combined(); !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
		for _, tc := range []struct {
			opts []string
			want string // dockerd --no-new-privileges'
		}{
			{nil, "1000"},
			{[]string{"--security-opt", "no-new-privileges=false"}, "0"},
		} {
			args := append(append([]string{"run", "--rm", "--network", "none", "-u", "1000"}, tc.opts...), image, "/suid-probe", "euid")
			if got := c.ok(t, args...); got != tc.want {
				t.Errorf("--no-new-privileges daemon, %v: setuid-root binary runs with euid %s, want %s", tc.opts, got, tc.want)
			}
		}
	})
}
