package build

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/network"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fakeSandboxes records the sandboxes it hands out.
type fakeSandboxes struct {
	mu       sync.Mutex
	created  []string // "id hostname" or "network id hostname"
	released []string
	cleaned  int
	dns      netip.Addr
}

func (f *fakeSandboxes) NewSandbox(_ context.Context, id, hostname string) (string, func() error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, id+" "+hostname)
	return "/run/test/netns/build-" + id, func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.released = append(f.released, id)
		return nil
	}, nil
}

func (f *fakeSandboxes) NewSandboxOn(ctx context.Context, netID, id, hostname string) (string, func() error, error) {
	path, release, err := f.NewSandbox(ctx, id, hostname)
	f.mu.Lock()
	f.created[len(f.created)-1] = netID + " " + f.created[len(f.created)-1]
	f.mu.Unlock()
	return path, release, err
}

func (f *fakeSandboxes) BuildNetwork(ref string) (string, error) {
	if ref != "dev" {
		return "", errdefs.ErrNotFound.WithMessage("network " + ref + " not found")
	}
	return "0123456789abcdef0123456789abcdef", nil
}

func (f *fakeSandboxes) SandboxHosts(id, hostname string) ([]string, netip.Addr) {
	return []string{"172.17.0.9\t" + hostname}, f.dns
}

func (f *fakeSandboxes) RemoveSandboxes(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleaned++
	return nil
}

func (f *fakeSandboxes) HostGatewayIP() string { return "172.17.0.1" }

// stepSpec is a spec as BuildKit's GenerateSpec hands it to Namespace.Set:
// a new network namespace, its hosts and resolv.conf bind mounts.
func stepSpec(t *testing.T, hostsFile string) *specs.Spec {
	t.Helper()
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte(hostsFile), 0o644); err != nil {
		t.Fatal(err)
	}
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver 192.0.2.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &specs.Spec{
		Hostname: "buildkitsandbox",
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.MountNamespace},
		}},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/etc/resolv.conf", Type: "bind", Source: resolv, Options: []string{"ro", "rbind"}},
			{Destination: "/etc/hosts", Type: "bind", Source: hosts, Options: []string{"ro", "rbind"}},
		},
	}
}

const buildkitHosts = "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tdb.test\n"

func mountSource(t *testing.T, s *specs.Spec, dest string) string {
	t.Helper()
	for _, m := range s.Mounts {
		if m.Destination == dest {
			return m.Source
		}
	}
	t.Fatalf("no %s mount", dest)
	return ""
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func netnsOf(s *specs.Spec) (string, bool) {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			return ns.Path, true
		}
	}
	return "", false
}

func providers(t *testing.T, sb Sandboxes) (map[pb.NetMode]network.Provider, string) {
	t.Helper()
	execRoot := t.TempDir()
	// a file an earlier engine left
	if err := os.MkdirAll(filepath.Join(execRoot, "net", "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := New(Config{ExecRoot: execRoot, Sandboxes: sb})
	ps, err := b.networkProviders()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(execRoot, "net", "old")); !os.IsNotExist(err) {
		t.Errorf("an earlier engine's files are still there: %v", err)
	}
	for _, mode := range []pb.NetMode{pb.NetMode_UNSET, pb.NetMode_HOST, pb.NetMode_NONE} {
		if ps[mode] == nil {
			t.Fatalf("no provider for %v", mode)
		}
	}
	return ps, filepath.Join(execRoot, "net")
}

func TestNetworkSandbox(t *testing.T) {
	sb := &fakeSandboxes{}
	ps, dir := providers(t, sb)
	if sb.cleaned != 1 {
		t.Errorf("RemoveSandboxes called %d times at start, want 1", sb.cleaned)
	}
	ns, err := ps[pb.NetMode_UNSET].New(context.Background(), "buildkitsandbox", network.NamespaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sb.created) != 1 || !strings.HasSuffix(sb.created[0], " buildkitsandbox") {
		t.Fatalf("sandboxes created: %q", sb.created)
	}
	id := strings.Fields(sb.created[0])[0]
	s := stepSpec(t, buildkitHosts)
	if err := ns.Set(s); err != nil {
		t.Fatal(err)
	}
	if path, _ := netnsOf(s); path != "/run/test/netns/build-"+id {
		t.Errorf("network namespace path %q", path)
	}
	hosts := readFile(t, mountSource(t, s, "/etc/hosts"))
	for _, want := range []string{"127.0.0.1\tlocalhost\n", "ff02::2\tip6-allrouters\n", "10.1.2.3\tdb.test\n", "172.17.0.9\tbuildkitsandbox\n"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("hosts lacks %q:\n%s", want, hosts)
		}
	}
	resolv := readFile(t, mountSource(t, s, "/etc/resolv.conf"))
	if !strings.Contains(resolv, "nameserver ") || strings.Contains(resolv, "192.0.2.53") {
		t.Errorf("resolv.conf is not the container's:\n%s", resolv)
	}
	if err := ns.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ns.Close(); err != nil {
		t.Fatal(err)
	}
	if len(sb.released) != 1 || sb.released[0] != id {
		t.Errorf("released %q, want [%s] once", sb.released, id)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left after Close: %v", left)
	}
}

func TestNetworkSandboxEmbeddedDNS(t *testing.T) {
	sb := &fakeSandboxes{dns: netip.MustParseAddr("127.0.0.11")}
	ps, _ := providers(t, sb)
	ns, err := ps[pb.NetMode_UNSET].New(context.Background(), "h", network.NamespaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	s := stepSpec(t, buildkitHosts)
	if err := ns.Set(s); err != nil {
		t.Fatal(err)
	}
	if resolv := readFile(t, mountSource(t, s, "/etc/resolv.conf")); !strings.HasPrefix(resolv, "nameserver 127.0.0.11\n") {
		t.Errorf("resolv.conf does not use the embedded DNS:\n%s", resolv)
	}
}

func TestNetworkHost(t *testing.T) {
	ps, _ := providers(t, &fakeSandboxes{})
	ns, err := ps[pb.NetMode_HOST].New(context.Background(), "buildkitsandbox", network.NamespaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	s := stepSpec(t, buildkitHosts)
	if err := ns.Set(s); err != nil {
		t.Fatal(err)
	}
	if _, ok := netnsOf(s); ok {
		t.Error("a host step has a network namespace of its own")
	}
	hosts := readFile(t, mountSource(t, s, "/etc/hosts"))
	if host, err := os.ReadFile("/etc/hosts"); err == nil && !strings.HasPrefix(hosts, string(host)) {
		t.Errorf("hosts is not the host's:\n%s", hosts)
	}
	if !strings.HasSuffix(hosts, "10.1.2.3\tdb.test\n") {
		t.Errorf("hosts lacks the --add-host entry:\n%s", hosts)
	}
	if host, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		if resolv := readFile(t, mountSource(t, s, "/etc/resolv.conf")); resolv != string(host) {
			t.Errorf("resolv.conf %q, want the host's %q", resolv, host)
		}
	}
}

func TestNetworkNone(t *testing.T) {
	for _, sb := range []Sandboxes{&fakeSandboxes{}, nil} {
		ps, _ := providers(t, sb)
		modes := []pb.NetMode{pb.NetMode_NONE}
		if sb == nil {
			modes = append(modes, pb.NetMode_UNSET) // no Sandboxes: no network
		}
		for _, mode := range modes {
			ns, err := ps[mode].New(context.Background(), "h", network.NamespaceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s := stepSpec(t, "127.0.0.1\tlocalhost h\n::1\tlocalhost ip6-localhost ip6-loopback\n")
			if err := ns.Set(s); err != nil {
				t.Fatal(err)
			}
			if path, ok := netnsOf(s); !ok || path != "" {
				t.Errorf("mode %v: network namespace %q, %v; want a new one", mode, path, ok)
			}
			hosts := readFile(t, mountSource(t, s, "/etc/hosts"))
			if !strings.HasPrefix(hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n") || strings.Count(hosts, "\n") != 6 {
				t.Errorf("mode %v: hosts:\n%s", mode, hosts)
			}
			_ = ns.Close()
		}
	}
}

func TestExtraHostLines(t *testing.T) {
	got := extraHostLines([]byte(buildkitHosts + "# comment\n\n::1 localhost\n10.0.0.1  a  b\n"))
	want := []string{"10.1.2.3\tdb.test", "10.0.0.1\ta b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHostGatewayLabels(t *testing.T) {
	b := New(Config{Sandboxes: &fakeSandboxes{}})
	if got := b.hostGatewayLabels()[HostGatewayLabel]; got != "172.17.0.1" {
		t.Errorf("host-gateway label %q", got)
	}
	if got := New(Config{}).hostGatewayLabels(); got != nil {
		t.Errorf("labels without Sandboxes: %v", got)
	}
}

func TestNetworkModeAttrs(t *testing.T) {
	sb := &fakeSandboxes{}
	b := New(Config{ExecRoot: t.TempDir(), Sandboxes: sb})
	for _, tc := range []struct {
		mode         string
		attrs        string
		entitlements string
		err          func(error) bool
	}{
		{mode: ""}, {mode: "default"}, {mode: "bridge"},
		{mode: "host", attrs: "force-network-mode=host", entitlements: "network.host"},
		{mode: "none", attrs: "force-network-mode=none"},
		{mode: "dev", attrs: "hostname=0123456789ab"},
		{mode: "nosuch", err: errdefs.IsNotFound},
		{mode: "container:abc", err: errdefs.IsInvalidArgument},
	} {
		attrs, ents, err := b.networkModeAttrs(tc.mode)
		if tc.err != nil {
			if !tc.err(err) {
				t.Errorf("%q: err %v", tc.mode, err)
			}
			continue
		}
		var got []string
		for k, v := range attrs {
			got = append(got, k+"="+v)
		}
		if err != nil || strings.Join(got, ",") != tc.attrs || strings.Join(ents, ",") != tc.entitlements {
			t.Errorf("%q: %v %v %v, want %s %s", tc.mode, got, ents, err, tc.attrs, tc.entitlements)
		}
	}
	// a step of the build on "dev" gets a sandbox on it
	ps, err := b.networkProviders()
	if err != nil {
		t.Fatal(err)
	}
	for _, hostname := range []string{"0123456789ab", "buildkitsandbox"} {
		ns, err := ps[pb.NetMode_UNSET].New(context.Background(), hostname, network.NamespaceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_ = ns.Close()
	}
	if len(sb.created) != 2 || !strings.HasPrefix(sb.created[0], "0123456789abcdef0123456789abcdef ") || strings.Count(sb.created[1], " ") != 1 {
		t.Errorf("sandboxes created: %q", sb.created)
	}
}
