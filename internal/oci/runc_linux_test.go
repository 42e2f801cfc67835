package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/etcfiles"
)

// busyboxRootfs builds a rootfs of /bin/busybox and its applet links, with
// a passwd and group holding root and an "app" user.
func busyboxRootfs(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "busybox" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234:app:/home/app:/bin/sh\n",
		"etc/group":  "root:x:0:\nwheel:x:10:root\napp:x:1234:\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// runcRun runs one container with runc on the spec built from o and
// returns its output. Runc's state and the container's cgroups are removed
// afterwards.
func runcRun(t *testing.T, o Options) string {
	t.Helper()
	dir := t.TempDir()
	bundle, state := filepath.Join(dir, "bundle"), filepath.Join(dir, "state")
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := Spec(o)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.Cleanup(func() {
		// runc run deletes the container when it exits; this covers failures.
		_ = exec.Command("runc", "--root", state, "delete", "--force", o.ID).Run()
		removeCgroup(t, o.CgroupsPath)
	})
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "runc", "--root", state, "run", "--bundle", bundle, o.ID)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("runc run: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// removeCgroup removes the container's cgroup and its parent from every
// hierarchy (v1 controllers and the v2 mount of a hybrid host).
func removeCgroup(t *testing.T, cgroupsPath string) {
	t.Helper()
	mounts, _ := filepath.Glob("/sys/fs/cgroup/*")
	mounts = append(mounts, "/sys/fs/cgroup")
	for _, m := range mounts {
		for _, p := range []string{cgroupsPath, filepath.Dir(cgroupsPath)} {
			if err := os.Remove(filepath.Join(m, p)); err != nil && !os.IsNotExist(err) && !strings.Contains(err.Error(), "not a directory") {
				t.Logf("remove cgroup %s: %v", filepath.Join(m, p), err)
			}
		}
	}
}

// TestRuncAcceptsSpec proves on this host that runc runs a container from
// Spec's output: default user, a user from passwd, docker's default
// capability mask, the default seccomp profile, a new network namespace.
func TestRuncAcceptsSpec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containers")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("runc not installed")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("busybox-static not installed (/bin/busybox)")
	}
	rootfs := busyboxRootfs(t)
	etc := t.TempDir()
	var extra []specs.Mount
	files := etcfiles.Generate(etcfiles.Host{}, etcfiles.Params{Hostname: "berthtest"})
	for name, content := range map[string][]byte{
		"hostname":    files.Hostname,
		"hosts":       files.Hosts,
		"resolv.conf": files.ResolvConf,
	} {
		p := filepath.Join(etc, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, specs.Mount{Destination: "/etc/" + name, Type: "bind", Source: p, Options: []string{"rbind", "rprivate"}})
	}
	parent := fmt.Sprintf("/berth-oci-test-%d", os.Getpid())
	n := 0
	options := func(args []string, user string) Options {
		n++
		id := fmt.Sprintf("berth-oci-test-%d-%d", os.Getpid(), n)
		u, err := ResolveUser(rootfs, user)
		if err != nil {
			t.Fatal(err)
		}
		return Options{
			ID:          id,
			Rootfs:      rootfs,
			Args:        args,
			Cwd:         "/",
			User:        u,
			Hostname:    "berthtest",
			HostConfig:  &containertypes.HostConfig{NetworkMode: "none"},
			ExtraMounts: extra,
			CgroupsPath: parent + "/" + id,
		}
	}

	t.Run("echo", func(t *testing.T) {
		o := options([]string{"echo", "ok"}, "")
		if s, _ := Spec(o); s.Linux.Seccomp == nil {
			t.Fatal("expected the default seccomp profile")
		}
		if got := runcRun(t, o); got != "ok\n" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("root by default", func(t *testing.T) {
		if got := runcRun(t, options([]string{"id"}, "")); got != "uid=0(root) gid=0(root) groups=0(root),10(wheel)\n" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("user from passwd", func(t *testing.T) {
		if got := runcRun(t, options([]string{"id"}, "app")); got != "uid=1234(app) gid=1234(app) groups=1234(app)\n" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("default capabilities", func(t *testing.T) {
		got := runcRun(t, options([]string{"sh", "-c", "cat /proc/self/status | grep Cap"}, ""))
		for _, want := range []string{"CapInh:\t0000000000000000", "CapPrm:\t00000000a80425fb", "CapEff:\t00000000a80425fb", "CapBnd:\t00000000a80425fb", "CapAmb:\t0000000000000000"} {
			if !strings.Contains(got, want+"\n") {
				t.Errorf("missing %q in\n%s", want, got)
			}
		}
	})
	t.Run("namespaces and files", func(t *testing.T) {
		got := runcRun(t, options([]string{"sh", "-c", "hostname; cat /etc/hostname; ls /sys/class/net; grep -c nameserver /etc/resolv.conf; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; grep -E 'Seccomp:|NoNewPrivs:' /proc/self/status; cat /proc/interrupts | wc -c; echo x > /proc/sys/kernel/domainname 2>/dev/null || echo rosys"}, ""))
		if got != "berthtest\nberthtest\nlo\n2\n0\nNoNewPrivs:\t0\nSeccomp:\t2\n0\nrosys\n" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("privileged", func(t *testing.T) {
		o := options([]string{"sh", "-c", "grep -E 'CapEff|Seccomp:' /proc/self/status; test -c /dev/kmsg && echo devices; touch /sys/fs/cgroup/x 2>/dev/null; grep -c . /proc/interrupts >/dev/null && echo unmasked"}, "")
		o.HostConfig.Privileged = true
		var mask uint64
		for _, c := range DetectHost().Capabilities {
			mask |= 1 << slices.Index(knownCapabilities, c)
		}
		want := fmt.Sprintf("CapEff:\t%016x\nSeccomp:\t0\ndevices\nunmasked\n", mask)
		if got := runcRun(t, o); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
	t.Run("limits", func(t *testing.T) {
		o := options([]string{"sh", "-c", "ulimit -n; touch /x 2>/dev/null || echo ro; touch /run/x && echo tmpfs; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us; grep NoNewPrivs /proc/self/status"}, "")
		pids := int64(50)
		o.HostConfig = &containertypes.HostConfig{
			NetworkMode:    "none",
			ReadonlyRootfs: true,
			Tmpfs:          map[string]string{"/run": "size=1m"},
			SecurityOpt:    []string{"no-new-privileges"},
			Resources: containertypes.Resources{
				Memory:    64 << 20,
				NanoCPUs:  500000000,
				PidsLimit: &pids,
				Ulimits:   []*containertypes.Ulimit{{Name: "nofile", Soft: 1000, Hard: 1000}},
			},
		}
		if DetectHost().CgroupV2 {
			t.Skip("checks cgroup v1 files")
		}
		if got := runcRun(t, o); got != "1000\nro\ntmpfs\n67108864\n50\n50000\nNoNewPrivs:\t1\n" {
			t.Fatalf("got %q", got)
		}
	})
}
