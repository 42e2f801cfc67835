package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// TestKubeCRI is tier 0 of the Kubernetes tests: crictl drives cri-dockerd
// (the CRI adapter a kubelet uses for a Docker Engine API) against a
// private berthd, through a pod's life: runp (a pod IP from berth's
// bridge), create, start, exec -s, logs, stats, stop, stopp, rmp. It checks
// what a kubelet relies on: the app container shares the sandbox's network,
// IPC and PID namespaces, its cgroup is under the pod's cgroup parent, the
// pod's bind is mounted with host-to-container propagation, the sandbox's
// resolv.conf (rewritten by cri-dockerd from the pod's DNS config) and
// sysctls reach the app, label filters are ANDed, and the sandbox's
// OomScoreAdj of -998 starts even where the host forbids it. crictl and
// cri-dockerd are built from the Go module proxy into their caches (make's
// kube-clients step; the test skips when they cannot be built).
func TestKubeCRI(t *testing.T) {
	crictlBin, criDockerdBin := testutil.RequiresKubeClients(t)
	d := ownDaemon(t)
	d.BerthStdin(t, bytes.NewReader(testutil.PauseRootfsTar(t)), "import",
		"--change", `ENTRYPOINT ["/pause"]`, "--change", "USER 65535:65535", "-", kubePauseImage).Success(t)

	dir := t.TempDir()
	criSock := filepath.Join(d.Root, "cri.sock")
	startCriDockerd(t, d, criDockerdBin, criSock, dir)
	crictl := func(args ...string) *testutil.Result {
		t.Helper()
		cmd := exec.Command(crictlBin, append([]string{"--runtime-endpoint", "unix://" + criSock,
			"--image-endpoint", "unix://" + criSock, "--timeout", "60s"}, args...)...)
		return testutil.Run(t, cmd, nil)
	}
	waitFor(t, 30*time.Second, "cri-dockerd to serve", func() bool { return crictl("version").ExitCode == 0 })

	// the pod's bind: a shared mount, as the kubelet's volumes are, so a
	// mount made under it after the start reaches the container (rslave)
	vol := filepath.Join(dir, "vol")
	mountShared(t, vol)
	if err := os.WriteFile(filepath.Join(vol, "hello"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	uid := unique("uid")
	parent := "/" + unique("berth-kube") + "/pod" + uid
	t.Cleanup(func() { removeCgroupTree(t, parent) })
	podJSON := writeJSON(t, dir, "pod.json", map[string]any{
		"metadata":      map[string]any{"name": "t0", "namespace": "default", "uid": uid},
		"hostname":      "t0",
		"log_directory": filepath.Join(dir, "podlogs"),
		"dns_config":    map[string]any{"servers": []string{"10.9.9.9"}, "searches": []string{"kube.test"}},
		"linux": map[string]any{
			"cgroup_parent":    parent,
			"sysctls":          map[string]string{"kernel.shm_rmid_forced": "1"},
			"security_context": map[string]any{"namespace_options": map[string]any{"network": 0, "pid": 0, "ipc": 0}},
		},
	})
	ctrJSON := writeJSON(t, dir, "ctr.json", map[string]any{
		"metadata": map[string]any{"name": "app"},
		"image":    map[string]any{"image": testutil.BusyboxImage},
		"command":  []string{"sh", "-c", "echo hello-kube; echo err-kube >&2; exec sleep 3600"},
		"log_path": "app.log",
		"mounts":   []map[string]any{{"container_path": "/kube-bind", "host_path": vol, "readonly": true, "propagation": 1}},
		"linux":    map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"pid": 0, "ipc": 0}}},
	})

	pod := crictl("runp", podJSON).Success(t).Out()
	t.Cleanup(func() { crictl("stopp", pod); crictl("rmp", "-f", pod) })
	var podStatus struct {
		Status struct {
			Network struct{ IP string }
		}
	}
	decodeJSON(t, crictl("inspectp", "-o", "json", pod).Success(t).Stdout, &podStatus)
	_, subnet, _ := net.ParseCIDR(d.Net.BIP)
	if ip := net.ParseIP(podStatus.Status.Network.IP); ip == nil || !subnet.Contains(ip) {
		t.Fatalf("pod IP %q is not on berth's bridge %s", podStatus.Status.Network.IP, d.Net.BIP)
	}

	ctr := crictl("create", pod, ctrJSON, podJSON).Success(t).Out()
	crictl("start", ctr).Success(t)
	waitFor(t, 10*time.Second, "the app's output", func() bool {
		return strings.Contains(crictl("logs", ctr).Combined(), "err-kube")
	})
	logs := crictl("logs", ctr).Success(t)
	if !strings.Contains(logs.Stdout, "hello-kube") || !strings.Contains(logs.Stderr, "err-kube") {
		t.Errorf("crictl logs: stdout %q, stderr %q; want hello-kube and err-kube", logs.Stdout, logs.Stderr)
	}
	if got := crictl("pods", "-q", "--label", "io.kubernetes.pod.uid="+uid).Success(t).Out(); got != pod {
		t.Errorf("pods with the pod's uid (label filters ANDed with the sandbox type) = %q, want only %s", got, pod)
	}
	if got := crictl("ps", "-a", "-q", "-p", pod).Success(t).Out(); got != ctr {
		t.Errorf("the pod's containers = %q, want only %s", got, ctr)
	}

	// exec -s: output and exit code
	r := crictl("exec", "-s", ctr, "sh", "-c", "echo exec-out; exit 3")
	if r.ExitCode != 3 || !strings.Contains(r.Stdout, "exec-out") {
		t.Errorf("exec -s: %s; want exec-out and exit code 3", r)
	}
	if got := crictl("exec", "-s", ctr, "cat", "/kube-bind/hello").Success(t).Out(); got != "from-host" {
		t.Errorf("the pod's bind: /kube-bind/hello = %q, want from-host", got)
	}
	late := filepath.Join(vol, "late")
	mountShared(t, late)
	if err := os.WriteFile(filepath.Join(late, "f"), []byte("propagated\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := crictl("exec", "-s", ctr, "cat", "/kube-bind/late/f").Success(t).Out(); got != "propagated" {
		t.Errorf("a mount made under the bind after the start (rslave) = %q, want propagated", got)
	}
	if got := crictl("exec", "-s", ctr, "cat", "/etc/resolv.conf").Success(t).Out(); !strings.Contains(got, "10.9.9.9") || !strings.Contains(got, "kube.test") {
		t.Errorf("the app's resolv.conf is not the sandbox's (cri-dockerd's DNS config):\n%s", got)
	}
	if got := crictl("exec", "-s", ctr, "cat", "/proc/sys/kernel/shm_rmid_forced").Success(t).Out(); got != "1" {
		t.Errorf("the pod's sysctl kernel.shm_rmid_forced in the app = %q, want 1", got)
	}

	// namespaces, cgroup and OOM score, from the host
	podPid := inspectPid(t, d, pod)
	ctrPid := inspectPid(t, d, ctr)
	for _, ns := range []string{"net", "ipc", "pid"} {
		a, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", podPid, ns))
		b, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", ctrPid, ns))
		if a == "" || a != b {
			t.Errorf("%s namespace: sandbox %q, app %q; want the same", ns, a, b)
		}
	}
	ctrID := inspect(t, d, ctr, "{{.Id}}")
	if got := memoryCgroup(t, ctrPid); got != parent+"/"+ctrID {
		t.Errorf("the app's cgroup is %q, want %s/<id>", got, parent)
	}
	wantAdj := -998
	if !hasCapability(t, 24) { // CAP_SYS_RESOURCE: without it berth raises the score
		wantAdj = readInt(t, fmt.Sprintf("/proc/%d/oom_score_adj", d.Pid()))
		if !strings.Contains(d.Log(), "OomScoreAdj -998 is raised to") {
			t.Errorf("berthd's log does not say it raised the sandbox's OomScoreAdj")
		}
	}
	if got := readInt(t, fmt.Sprintf("/proc/%d/oom_score_adj", podPid)); got != wantAdj {
		t.Errorf("the sandbox's oom_score_adj = %d, want %d", got, wantAdj)
	}

	// stats: the kubelet's one-shot stats
	var stats struct {
		Stats []struct {
			Attributes struct{ ID string }
			Memory     struct {
				WorkingSetBytes struct{ Value uint64 }
			}
		}
	}
	decodeJSON(t, crictl("stats", "-o", "json", "--id", ctr).Success(t).Stdout, &stats)
	if len(stats.Stats) != 1 || stats.Stats[0].Attributes.ID != ctrID || stats.Stats[0].Memory.WorkingSetBytes.Value == 0 {
		t.Errorf("crictl stats: %+v; want the app's memory", stats.Stats)
	}

	crictl("stop", "-t", "2", ctr).Success(t)
	var ctrStatus struct{ Status struct{ State string } }
	decodeJSON(t, crictl("inspect", "-o", "json", ctr).Success(t).Stdout, &ctrStatus)
	if ctrStatus.Status.State != "CONTAINER_EXITED" {
		t.Errorf("after stop the app is %s, want CONTAINER_EXITED", ctrStatus.Status.State)
	}
	crictl("stopp", pod).Success(t)
	crictl("rmp", pod).Success(t)
	if got := d.Berth(t, "ps", "-a", "-q").Success(t).Out(); got != "" {
		t.Errorf("containers left after rmp: %q", got)
	}
}

// kubePauseImage is cri-dockerd's default sandbox image, imported locally.
const kubePauseImage = "registry.k8s.io/pause:3.10"

// startCriDockerd runs cri-dockerd against d, serving CRI on criSock, in a
// private PID namespace with its own /proc: every 5 minutes, and once at
// its start, cri-dockerd lowers the OOM score of any process named dockerd
// or containerd it sees, which must never be another's daemon.
func startCriDockerd(t *testing.T, d *testutil.Daemon, bin, criSock, dir string) {
	t.Helper()
	logPath := filepath.Join(dir, "cri-dockerd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount", "--mount-proc", "--kill-child", bin,
		"--docker-endpoint", d.Host,
		"--container-runtime-endpoint", "unix://"+criSock,
		"--cri-dockerd-root-directory", filepath.Join(dir, "cri-dockerd"),
		"--pod-infra-container-image", kubePauseImage,
		"--network-plugin=",
		"--streaming-bind-addr", "127.0.0.1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // --kill-child takes cri-dockerd with it
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("cri-dockerd's log:\n%s", lastLinesOf(string(out), 40))
		}
	})
}

// mountShared mounts a tmpfs at dir, shared (as the kubelet's volume
// folders are), unmounted when t ends.
func mountShared(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	if err := syscall.Mount("", dir, "", syscall.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
}

// removeCgroupTree removes parent and its ancestors' folders (leaf first)
// from every cgroup hierarchy, as a kubelet removes a pod's cgroup.
func removeCgroupTree(t *testing.T, parent string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	for _, root := range roots {
		for p := parent; p != "/" && p != "."; p = filepath.Dir(p) {
			dir := filepath.Join(root, p)
			if err := syscall.Rmdir(dir); err != nil && !os.IsNotExist(err) {
				t.Errorf("remove cgroup %s: %v", dir, err)
			}
		}
	}
}

// memoryCgroup is pid's memory cgroup (v1), or its unified one (v2).
func memoryCgroup(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	unified := ""
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			unified = parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				return parts[2]
			}
		}
	}
	return unified
}

func inspectPid(t *testing.T, d *testutil.Daemon, id string) int {
	t.Helper()
	pid, err := strconv.Atoi(inspect(t, d, id, "{{.State.Pid}}"))
	if err != nil || pid <= 0 {
		t.Fatalf("%s has no pid: %v", id, err)
	}
	return pid
}

// hasCapability reports whether this process's bounding set holds cap.
func hasCapability(t *testing.T, bit uint) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && m&(1<<bit) != 0
		}
	}
	return false
}

func readInt(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}

func lastLinesOf(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
