//go:build linux

package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// The T1 and T2 tiers of issue 13: a real kubelet (and, for T2, a real
// single-node control plane) running its pods on berthd through
// cri-dockerd. They need the Kubernetes binaries that scripts/kube-build.sh
// builds (~22 min cold) and cri-dockerd, so they run only in
// `make test-kube`, which sets BERTH_KUBE=1; `make test` skips them at once.
// scripts/kube-node.sh sets the node up in its own network and mount
// namespaces (see its header) and tears it down; these tests check what a
// user of the node sees.

// kubeNodeEnv is the environment variable that enables these tests.
const kubeNodeEnv = "BERTH_KUBE"

// kubeNode is a node that scripts/kube-node.sh runs in dir.
type kubeNode struct {
	dir    string
	script string
	env    []string
}

// startKubeNode brings a node up in mode ("standalone" or "cluster") on
// berthd, and tears it down when t ends, checking that it left nothing
// behind on the host.
func startKubeNode(t *testing.T, mode string) *kubeNode {
	t.Helper()
	if os.Getenv(kubeNodeEnv) == "" {
		t.Skipf("%s is unset: the kubelet tiers run in `make test-kube`", kubeNodeEnv)
	}
	testutil.RequiresRoot(t)
	bin, err := testutil.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../scripts/kube-node.sh")
	if err != nil {
		t.Fatal(err)
	}
	criDockerd, err := testutil.CriDockerdBinary()
	if err != nil {
		t.Fatalf("cri-dockerd %s: %v", testutil.CriDockerdVersion, err)
	}
	before := hostState(t)
	n := &kubeNode{
		dir:    t.TempDir(),
		script: script,
		env: append(os.Environ(), "BERTH_BIN_DIR="+bin, "KUBE_NODE_ENGINE=berth",
			"KUBE_NODE_CRI_DOCKERD="+criDockerd),
	}
	t.Cleanup(func() {
		if t.Failed() {
			n.dumpLogs(t)
		}
		out, err := n.cmd("down").CombinedOutput()
		switch {
		case err != nil:
			t.Errorf("kube-node.sh down: %v\n%s", err, out)
		case bytes.Contains(out, []byte("processes left")) || bytes.Contains(out, []byte("rm -f failed")):
			// down killed them, but the engine should have removed them.
			t.Errorf("the engine did not remove every container:\n%s", out)
		default:
			t.Logf("kube-node.sh down:\n%s", out)
		}
		if after := hostState(t); after != before {
			t.Errorf("the node left something on the host:\nbefore: %s\nafter:  %s", before, after)
		}
	})
	start := time.Now()
	if out, err := n.cmd("up", mode).CombinedOutput(); err != nil {
		t.Fatalf("kube-node.sh up %s: %v\n%s", mode, err, out)
	}
	t.Logf("node up (%s) in %s", mode, time.Since(start).Round(time.Millisecond))
	return n
}

func (n *kubeNode) cmd(args ...string) *exec.Cmd {
	c := exec.Command(n.script, append(args[:1:1], append([]string{n.dir}, args[1:]...)...)...)
	c.Env = n.env
	return c
}

// output runs kube-node.sh's command (run, kubectl) with args and returns
// its stdout; the error carries its stderr.
func (n *kubeNode) output(command string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	c := n.cmd(append([]string{command}, args...)...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", command, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// run runs a command inside the node's namespaces.
func (n *kubeNode) run(args ...string) (string, error) { return n.output("run", args...) }

// kubectl runs kubectl as the cluster's admin.
func (n *kubeNode) kubectl(args ...string) (string, error) { return n.output("kubectl", args...) }

func (n *kubeNode) mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := n.kubectl(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// berth runs the berth CLI against the node's berthd.
func (n *kubeNode) berth(t *testing.T, args ...string) string {
	t.Helper()
	bin, _ := testutil.BinDir()
	sock := "unix:///run/" + n.name() + "/engine.sock"
	out, err := exec.Command(filepath.Join(bin, "berth"), append([]string{"-H", sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// name is the node's name, as kube-node.sh derives it from its folder.
func (n *kubeNode) name() string {
	out, err := exec.Command("sh", "-c", `printf '%s' "$0" | md5sum | cut -c1-8`, n.dir).Output()
	if err != nil {
		panic(err)
	}
	return "kn" + strings.TrimSpace(string(out))
}

func (n *kubeNode) dumpLogs(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(n.dir, "logs", "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 30 {
			lines = lines[len(lines)-30:]
		}
		t.Logf("--- last lines of %s:\n%s", l, strings.Join(lines, "\n"))
	}
}

// kubeEventually retries f every 500 ms until it returns nil or timeout passes.
func kubeEventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// hostState is what the node must leave as it found it: the host's sysctls
// the kubelet would write, its network namespaces, nftables tables and
// iptables chains, and the top-level cgroups.
func hostState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, s := range []string{"vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"} {
		v, err := os.ReadFile("/proc/sys/" + s)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%s ", s, strings.TrimSpace(string(v)))
	}
	netns, _ := os.ReadDir("/run/netns")
	for _, e := range netns {
		if strings.HasPrefix(e.Name(), "kn") {
			fmt.Fprintf(&b, "netns:%s ", e.Name())
		}
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/kn*")
	for _, c := range cgroups {
		fmt.Fprintf(&b, "cgroup:%s ", c)
	}
	if out, err := exec.Command("nft", "list", "tables").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "kn") {
				fmt.Fprintf(&b, "nft:%s ", l)
			}
		}
	}
	if out, err := exec.Command("iptables-save").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "KUBE-") {
				fmt.Fprintf(&b, "iptables:%s ", l)
			}
		}
	}
	return b.String()
}

// kubeletPod is the part of a pod the kubelet's /pods endpoint reports
// that these tests read.
type kubeletPod struct {
	Metadata struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	} `json:"metadata"`
	Status struct {
		Phase      string `json:"phase"`
		PodIP      string `json:"podIP"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
		ContainerStatuses []struct {
			Name  string `json:"name"`
			Ready bool   `json:"ready"`
		} `json:"containerStatuses"`
	} `json:"status"`
}

// TestKubeNodeStandalone is T1: a standalone kubelet (no API server) runs a
// static pod whose two containers share an emptyDir volume, each gated by
// an exec readiness probe that passes only once the other container's file
// is seen through the volume; its logs reach the kubelet's pod log folder,
// and removing the manifest removes its containers from berthd.
func TestKubeNodeStandalone(t *testing.T) {
	n := startKubeNode(t, "standalone")
	name := unique("t1")
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: default}
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{name: shared, emptyDir: {}}]
  containers:
  - name: writer
    image: busybox:1.0
    imagePullPolicy: Never
    command: [sh, -c, 'echo hello-from-writer > /shared/msg; echo writer started; exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
    readinessProbe: {exec: {command: [test, -f, /shared/ack]}, periodSeconds: 1}
  - name: reader
    image: busybox:1.0
    imagePullPolicy: Never
    command: [sh, -c, 'until cat /shared/msg; do sleep 0.2; done; touch /shared/ack; exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
    readinessProbe: {exec: {command: [grep, -q, hello-from-writer, /shared/msg]}, periodSeconds: 1}
`, name)
	if err := os.WriteFile(filepath.Join(n.dir, "manifests", name+".yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	var pod kubeletPod
	kubeEventually(t, 3*time.Minute, "the static pod Ready", func() error {
		out, err := n.run("curl", "-sfk", "https://10.123.0.2:10250/pods")
		if err != nil {
			return err
		}
		var list struct{ Items []kubeletPod }
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			return err
		}
		for _, p := range list.Items {
			if !strings.HasPrefix(p.Metadata.Name, name) {
				continue
			}
			pod = p
			for _, c := range p.Status.Conditions {
				if c.Type == "Ready" && c.Status == "True" {
					return nil
				}
			}
			return fmt.Errorf("pod %s not Ready: %+v", p.Metadata.Name, p.Status)
		}
		return fmt.Errorf("pod %s not listed yet", name)
	})
	if len(pod.Status.ContainerStatuses) != 2 {
		t.Fatalf("want 2 ready containers, got %+v", pod.Status.ContainerStatuses)
	}
	for _, c := range pod.Status.ContainerStatuses {
		if !c.Ready {
			t.Errorf("container %s not ready", c.Name)
		}
	}
	if pod.Status.PodIP == "" || !strings.HasPrefix(pod.Status.PodIP, "10.124.0.") {
		t.Errorf("pod IP %q, want one on the node's bridge 10.124.0.0/24", pod.Status.PodIP)
	}

	// The reader's output, read by the kubelet's log path.
	logs, _ := filepath.Glob(filepath.Join(n.dir, "pod-logs", "default_"+name+"*", "reader", "*.log"))
	if len(logs) == 0 {
		t.Fatalf("no reader log under %s/pod-logs", n.dir)
	}
	kubeEventually(t, 10*time.Second, "the reader's log", func() error {
		b, err := os.ReadFile(logs[0])
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), "hello-from-writer") {
			return fmt.Errorf("%s: %q", logs[0], b)
		}
		return nil
	})

	// Removing the manifest stops the pod: its containers leave berthd.
	filter := "label=io.kubernetes.pod.name=" + pod.Metadata.Name
	if got := strings.Fields(n.berth(t, "ps", "-aq", "--filter", filter)); len(got) != 3 {
		t.Errorf("berth ps --filter %s: %d containers, want 3 (sandbox, writer, reader)", filter, len(got))
	}
	if err := os.Remove(filepath.Join(n.dir, "manifests", name+".yaml")); err != nil {
		t.Fatal(err)
	}
	kubeEventually(t, time.Minute, "the pod's containers removed", func() error {
		if ids := strings.Fields(n.berth(t, "ps", "-q", "--filter", filter)); len(ids) > 0 {
			return fmt.Errorf("still running: %v", ids)
		}
		return nil
	})
}

// TestKubeNodeCluster is T2: a single-node cluster (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubelet) on berthd. A
// Deployment of 2 replicas comes up; a second pod reaches one of them by
// pod IP; `kubectl logs` and `kubectl exec` (output and exit code) work; a
// rollout replaces both pods; a delete removes every container.
func TestKubeNodeCluster(t *testing.T) {
	n := startKubeNode(t, "cluster")
	deploy := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: busybox:1.0
        imagePullPolicy: Never
        env: [{name: VERSION, value: one}]
        command: [sh, -c, 'mkdir -p /www && echo "$HOSTNAME $VERSION" > /www/index.html && echo serving && exec httpd -f -p 8080 -h /www']
        readinessProbe: {exec: {command: [wget, -qO-, http://127.0.0.1:8080/]}, periodSeconds: 1}
`
	apply := func(yaml string) {
		t.Helper()
		f := filepath.Join(n.dir, "apply.yaml")
		if err := os.WriteFile(f, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		n.mustKubectl(t, "apply", "-f", f)
	}
	apply(deploy)
	n.mustKubectl(t, "rollout", "status", "deployment/web", "--timeout", "180s")
	pods := strings.Fields(n.mustKubectl(t, "get", "pods", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.podIP}{"\n"}{end}`))
	if len(pods) != 4 {
		t.Fatalf("want 2 pods with an IP, got %q", pods)
	}
	first, firstIP := pods[0], pods[1]

	// A second pod reaches the first by its pod IP; kubectl logs shows it.
	client := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  restartPolicy: Never
  containers:
  - name: client
    image: busybox:1.0
    imagePullPolicy: Never
    command: [wget, -qO-, "http://%s:8080/"]
`, firstIP)
	apply(client)
	kubeEventually(t, 2*time.Minute, "the client pod Succeeded", func() error {
		phase, err := n.kubectl("get", "pod", "client", "-o", "jsonpath={.status.phase}")
		if err != nil || phase != "Succeeded" {
			return fmt.Errorf("phase %q, %v", phase, err)
		}
		return nil
	})
	if got := strings.TrimSpace(n.mustKubectl(t, "logs", "client")); got != first+" one" {
		t.Errorf("kubectl logs client = %q, want %q (the page of %s at %s)", got, first+" one", first, firstIP)
	}
	if got := strings.TrimSpace(n.mustKubectl(t, "logs", first)); got != "serving" {
		t.Errorf("kubectl logs %s = %q, want %q", first, got, "serving")
	}

	// kubectl exec: output, and the command's exit code.
	if got := strings.TrimSpace(n.mustKubectl(t, "exec", first, "--", "cat", "/www/index.html")); got != first+" one" {
		t.Errorf("kubectl exec cat = %q, want %q", got, first+" one")
	}
	_, err := n.kubectl("exec", first, "--", "sh", "-c", "exit 3")
	var exitErr *exec.ExitError
	if err == nil || !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Errorf("kubectl exec sh -c 'exit 3': %v, want exit status 3", err)
	}

	// A rollout: both pods replaced by ones with the new environment.
	apply(strings.Replace(deploy, "value: one", "value: two", 1))
	n.mustKubectl(t, "rollout", "status", "deployment/web", "--timeout", "180s")
	kubeEventually(t, time.Minute, "only the new pods left", func() error {
		out, err := n.kubectl("get", "pods", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}`)
		if err != nil {
			return err
		}
		names := strings.Fields(out)
		if len(names) != 2 {
			return fmt.Errorf("pods %v", names)
		}
		for _, p := range names {
			if p == first {
				return fmt.Errorf("old pod %s still there", p)
			}
			v, err := n.kubectl("exec", p, "--", "sh", "-c", `echo "$VERSION"`)
			if err != nil {
				return err
			}
			if strings.TrimSpace(v) != "two" {
				return fmt.Errorf("pod %s VERSION=%q", p, v)
			}
		}
		return nil
	})

	// A delete removes every container of the namespace from berthd.
	n.mustKubectl(t, "delete", "deployment", "web", "--wait=true")
	n.mustKubectl(t, "delete", "pod", "client", "--wait=true")
	kubeEventually(t, time.Minute, "the default namespace's containers removed", func() error {
		if ids := strings.Fields(n.berth(t, "ps", "-aq", "--filter", "label=io.kubernetes.pod.namespace=default")); len(ids) > 0 {
			return fmt.Errorf("left: %v", ids)
		}
		return nil
	})
}
