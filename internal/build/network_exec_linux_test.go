package build

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/mount"
	"github.com/moby/buildkit/executor"
	"github.com/moby/buildkit/executor/resources"
	"github.com/moby/buildkit/executor/runcexecutor"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/sys/user"

	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/testutil"
)

// managerSandboxes are build sandboxes on a real network manager, as the
// daemon makes them (internal/daemon/buildnet.go).
type managerSandboxes struct{ m *network.Manager }

func (s managerSandboxes) NewSandbox(ctx context.Context, id, hostname string) (string, func() error, error) {
	sid := "build-" + id
	path, err := s.m.NewNetNS(sid)
	if err != nil {
		return "", nil, err
	}
	if _, err := s.m.Connect(ctx, network.DefaultNetwork, network.EndpointOptions{ContainerID: sid, Name: sid, NetNSPath: path}); err != nil {
		_ = network.RemoveNetNS(path)
		return "", nil, err
	}
	return path, func() error {
		if err := s.m.ReleaseAll(context.Background(), sid); err != nil {
			return err
		}
		return network.RemoveNetNS(path)
	}, nil
}

func (s managerSandboxes) SandboxHosts(id, hostname string) ([]string, netip.Addr) {
	var lines []string
	for _, ep := range s.m.Endpoints("build-" + id) {
		lines = append(lines, ep.IPAddress.String()+"\t"+hostname)
	}
	return lines, netip.Addr{}
}

// dirMount is a rootfs bind-mounted from a folder.
type dirMount string

func (d dirMount) Mount(context.Context, bool) (executor.MountableRef, error) { return dirRef(d), nil }

type dirRef string

func (d dirRef) Mount() ([]mount.Mount, func() error, error) {
	return []mount.Mount{{Type: "bind", Source: string(d), Options: []string{"rbind", "rw"}}}, func() error { return nil }, nil
}

func (d dirRef) IdentityMapping() *user.IdentityMapping { return nil }

type closer struct{ *bytes.Buffer }

func (closer) Close() error { return nil }

// TestNetworkRunStep runs steps under BuildKit's runc executor with the
// providers over a real network manager: a sandbox step has an address on
// the bridge and reaches its gateway, sees a container's /etc files with
// the --add-host entries; none has only its loopback; host has the host's
// stack. Nothing is left after the steps.
func TestNetworkRunStep(t *testing.T) {
	testutil.RequiresRoot(t)
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc is not installed")
	}
	busybox, err := testutil.BusyboxBinary()
	if err != nil {
		t.Skip(err)
	}
	tmp := t.TempDir()
	rootfs := filepath.Join(tmp, "rootfs")
	var tarball bytes.Buffer
	if err := testutil.WriteBusyboxRootfs(&tarball, busybox); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	untar := exec.Command("tar", "-x", "-C", rootfs)
	untar.Stdin = &tarball
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("untar: %v: %s", err, out)
	}

	tag := make([]byte, 3)
	_, _ = rand.Read(tag)
	name := hex.EncodeToString(tag)
	bip := netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.1/24", 250+int(tag[0])%5, tag[1]))
	ctx := context.Background()
	m, err := network.New(ctx, network.Config{
		Root: filepath.Join(tmp, "netstate"), ExecRoot: filepath.Join(tmp, "exec"),
		DefaultBridge: "bnt" + name, DefaultBIP: bip, TableName: "bnt_" + name,
		DNSUpstreams: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy(context.Background()) })

	b := New(Config{ExecRoot: filepath.Join(tmp, "buildkit"), Sandboxes: managerSandboxes{m}})
	providers, err := b.networkProviders()
	if err != nil {
		t.Fatal(err)
	}
	rm, err := resources.NewMonitor()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := runcexecutor.New(runcexecutor.Opt{Root: filepath.Join(tmp, "executor"), CommandCandidates: []string{runc}, ResourceMonitor: rm}, providers)
	if err != nil {
		t.Fatal(err)
	}
	run := func(mode pb.NetMode, script string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		_, err := exe.Run(ctx, "", executor.Mount{Src: dirMount(rootfs)}, nil, executor.ProcessInfo{
			Meta: executor.Meta{
				Args: []string{"/bin/sh", "-c", script}, Cwd: "/", Hostname: "buildkitsandbox", NetMode: mode,
				Env:        []string{"PATH=/bin:/usr/bin:/sbin:/usr/sbin"},
				ExtraHosts: []executor.HostIP{{Host: "db.test", IP: net.ParseIP("10.1.2.3")}},
			},
			Stdout: closer{&stdout}, Stderr: closer{&stderr},
		}, nil)
		if err != nil {
			t.Fatalf("mode %v: %v\nstdout:\n%s\nstderr:\n%s", mode, err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	gateway := bip.Addr().String()
	out := run(pb.NetMode_UNSET, "ip -o -4 addr show eth0; ping -c 1 -W 2 "+gateway+"; echo ===; cat /etc/hosts; echo ===; cat /etc/resolv.conf")
	parts := strings.Split(out, "===\n")
	if len(parts) != 3 {
		t.Fatalf("output:\n%s", out)
	}
	prefix := strings.TrimSuffix(gateway, ".1") + "."
	if !strings.Contains(parts[0], "inet "+prefix) || !strings.Contains(parts[0], "1 packets received") {
		t.Errorf("the step has no address on %s or does not reach the gateway:\n%s", bip, parts[0])
	}
	if !strings.Contains(parts[1], "10.1.2.3\tdb.test\n") || !strings.Contains(parts[1], prefix) || !strings.Contains(parts[1], "\tbuildkitsandbox\n") {
		t.Errorf("hosts:\n%s", parts[1])
	}
	if !strings.Contains(parts[2], "nameserver ") {
		t.Errorf("resolv.conf:\n%s", parts[2])
	}

	if out := run(pb.NetMode_NONE, "ip -o link show"); strings.Count(out, "\n") != 1 || !strings.Contains(out, " lo:") {
		t.Errorf("a none step sees:\n%s", out)
	}
	if out := run(pb.NetMode_HOST, "ip -o link show bnt"+name); !strings.Contains(out, ": bnt"+name+": ") {
		t.Errorf("a host step does not see the host's bridge: %q", out)
	}

	// what a sandbox costs a step, beside none
	for _, mode := range []pb.NetMode{pb.NetMode_NONE, pb.NetMode_UNSET, pb.NetMode_NONE, pb.NetMode_UNSET} {
		t0 := time.Now()
		run(mode, "true")
		t.Logf("a step with network %v: %s", mode, time.Since(t0))
	}

	if eps := m.Endpoints(""); len(eps) != 0 {
		t.Errorf("endpoints left: %v", eps)
	}
	for _, dir := range []string{filepath.Join(tmp, "exec", "netns"), filepath.Join(tmp, "buildkit", "net")} {
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("left in %s: %v", dir, left)
		}
	}
	if n, err := m.NetworkEndpoints(network.DefaultNetwork); err != nil || len(n) != 0 {
		t.Errorf("endpoints left on the bridge: %v %v", n, err)
	}
}
