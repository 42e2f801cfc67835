//go:build linux

package integration

import (
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

// testSubnet6 is a random unique local /64: its addresses exist only on the
// bridges the test creates.
func testSubnet6() string {
	b := make([]byte, 7)
	_, _ = rand.Read(b)
	// canonical, as inspect shows it
	return netip.MustParsePrefix(fmt.Sprintf("fd%02x:%02x%02x:%02x%02x:%02x%02x::/64", b[0], b[1], b[2], b[3], b[4], b[5], b[6])).String()
}

// v6Of is the container's IPv6 address on network net.
func v6Of(t testing.TB, d *testutil.Daemon, name, network string) string {
	t.Helper()
	return inspect(t, d, name, fmt.Sprintf("{{with index .NetworkSettings.Networks %q}}{{.GlobalIPv6Address}}{{end}}", network))
}

func TestIPv6UserNetwork(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		// without an IPv6 subnet: one /64 of a unique local /48
		auto := unique("v6auto")
		c.ok(t, "network", "create", "--ipv6", auto)
		t.Cleanup(func() { d.Berth(t, "network", "rm", auto) })
		if got := c.ok(t, "network", "inspect", "-f", "{{.EnableIPv6}} {{len .IPAM.Config}}", auto); got != "true 2" {
			t.Errorf("network inspect of --ipv6 without a subnet: %q, want \"true 2\"", got)
		}
		sub := c.ok(t, "network", "inspect", "-f", "{{(index .IPAM.Config 1).Subnet}}", auto)
		if p, err := netip.ParsePrefix(sub); err != nil || p.Bits() != 64 || !netip.MustParsePrefix("fd00::/8").Contains(p.Addr()) {
			t.Errorf("automatic IPv6 subnet = %q, want a unique local /64", sub)
		}

		subnet6 := testSubnet6()
		netName := unique("v6")
		c.ok(t, "network", "create", "--ipv6", "--subnet", testSubnet(), "--subnet", subnet6, netName)
		t.Cleanup(func() { d.Berth(t, "network", "rm", netName) })
		gw6 := netip.MustParsePrefix(subnet6).Addr().Next().String()
		if got := c.ok(t, "network", "inspect", "-f", "{{.EnableIPv6}} {{(index .IPAM.Config 1).Subnet}} {{(index .IPAM.Config 1).Gateway}}", netName); got != "true "+subnet6+" "+gw6 {
			t.Errorf("network inspect = %q, want %q", got, "true "+subnet6+" "+gw6)
		}

		web := unique("web6")
		rmOnCleanup(t, d, web)
		c.ok(t, append([]string{"run", "-d", "--name", web, "--network", netName, "-p", "80"}, append([]string{"busybox"}, httpdCmd("hello-"+web)...)...)...)
		addr := v6Of(t, d, web, netName)
		if a, err := netip.ParseAddr(addr); err != nil || !netip.MustParsePrefix(subnet6).Contains(a) {
			t.Fatalf("GlobalIPv6Address = %q, want an address of %s", addr, subnet6)
		}
		tmpl := fmt.Sprintf("{{with index .NetworkSettings.Networks %q}}{{.GlobalIPv6PrefixLen}} {{.IPv6Gateway}}{{end}}", netName)
		if got := c.ok(t, "inspect", "-f", tmpl, web); got != "64 "+gw6 {
			t.Errorf("inspect prefix length and IPv6 gateway = %q, want %q", got, "64 "+gw6)
		}
		// --ip6, and the address as the container sees it
		fixed := netip.MustParsePrefix(subnet6).Addr().As16()
		fixed[15] = 0x99
		ip6 := netip.AddrFrom16(fixed).String()
		if out := c.ok(t, "run", "--rm", "--network", netName, "--ip6", ip6, "busybox", "ip", "-6", "addr", "show", "eth0"); !strings.Contains(out, ip6+"/64") {
			t.Errorf("ip -6 addr in a container run with --ip6 %s:\n%s", ip6, out)
		}
		if got := c.ok(t, "network", "inspect", "-f", "{{range .Containers}}{{.IPv6Address}}{{end}}", netName); got != addr+"/64" {
			t.Errorf("network inspect Containers IPv6Address = %q", got)
		}

		// published on 0.0.0.0 and [::], the same port, as docker does
		ports := lines(c.ok(t, "port", web, "80"))
		m := regexp.MustCompile(`^0\.0\.0\.0:(\d+)$`).FindStringSubmatch(strings.TrimSpace(ports[0]))
		if len(ports) != 2 || m == nil || strings.TrimSpace(ports[1]) != "[::]:"+m[1] {
			t.Fatalf("port %s 80 = %q, want 0.0.0.0:N and [::]:N", web, ports)
		}
		for _, url := range []string{"http://[::1]:" + m[1] + "/", "http://127.0.0.1:" + m[1] + "/", "http://[" + addr + "]/"} {
			waitGet(t, url, "hello-"+web)
		}

		// an explicit [::1] binding
		lo := unique("web6lo")
		rmOnCleanup(t, d, lo)
		port := freePort(t)
		c.ok(t, append([]string{"run", "-d", "--name", lo, "--network", netName, "-p", "[::1]:" + port + ":80"}, append([]string{"busybox"}, httpdCmd("hello-"+lo)...)...)...)
		if got := c.ok(t, "port", lo); got != "80/tcp -> [::1]:"+port {
			t.Errorf("port %s = %q", lo, got)
		}
		waitGet(t, "http://[::1]:"+port+"/", "hello-"+lo)

		// another container pings it by name over IPv6 (AAAA from the embedded DNS)
		out := c.ok(t, "run", "--rm", "--network", netName, "busybox", "ping", "-6", "-c", "1", "-W", "2", web)
		if !strings.Contains(out, addr) || !strings.Contains(out, "1 packets received") {
			t.Errorf("ping -6 %s:\n%s", web, out)
		}
		// the container's default IPv6 route goes through the gateway
		if out := c.ok(t, "run", "--rm", "--network", netName, "busybox", "ip", "-6", "route"); !strings.Contains(out, "default via "+gw6) {
			t.Errorf("ip -6 route:\n%s", out)
		}
	})
}

// TestIPv6IsolationAndV4Only: IPv6 traffic does not cross networks, and an
// IPv4-only network's containers have IPv6 disabled on their interface.
func TestIPv6IsolationAndV4Only(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	c := cli{name: "berth", d: d}
	a, b := unique("v6a"), unique("v6b")
	for _, n := range []string{a, b} {
		c.ok(t, "network", "create", "--ipv6", "--subnet", testSubnet6(), n)
		t.Cleanup(func() { d.Berth(t, "network", "rm", n) })
	}
	target := unique("v6target")
	rmOnCleanup(t, d, target)
	c.ok(t, "run", "-d", "--name", target, "--network", b, "busybox", "sleep", "300")
	addr := v6Of(t, d, target, b)
	if res := c.run(t, "run", "--rm", "--network", a, "busybox", "ping", "-6", "-c", "1", "-W", "1", addr); res.ExitCode == 0 {
		t.Errorf("IPv6 ping across networks passed: %s", res)
	}
	v4 := userNetwork(t, d, c)
	if got := c.ok(t, "run", "--rm", "--network", v4, "busybox", "cat", "/proc/sys/net/ipv6/conf/eth0/disable_ipv6"); got != "1" {
		t.Errorf("disable_ipv6 on an IPv4-only network = %q, want 1", got)
	}
	if got := c.ok(t, "network", "inspect", "-f", "{{.EnableIPv6}} {{len .IPAM.Config}}", v4); got != "false 1" {
		t.Errorf("IPv4-only network inspect = %q", got)
	}
}

// TestIPv6DefaultBridge: berthd --ipv6 --fixed-cidr-v6 gives the default
// bridge network IPv6; the daemon.json keys are dockerd's.
func TestIPv6DefaultBridge(t *testing.T) {
	subnet6 := testSubnet6()
	d := testutil.StartDaemon(t, testutil.WithArgs("--ipv6", "--fixed-cidr-v6", subnet6))
	d.LoadBusybox(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if got := c.ok(t, "network", "inspect", "-f", "{{.EnableIPv6}} {{(index .IPAM.Config 1).Subnet}}", "bridge"); got != "true "+subnet6 {
			t.Errorf("default bridge = %q, want %q", got, "true "+subnet6)
		}
		name := unique("defv6")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		addr := v6Of(t, d, name, "bridge")
		if a, err := netip.ParseAddr(addr); err != nil || !netip.MustParsePrefix(subnet6).Contains(a) {
			t.Fatalf("default bridge GlobalIPv6Address = %q, want one of %s", addr, subnet6)
		}
		if out, err := exec.Command("busybox", "ping", "-6", "-c", "1", "-W", "2", addr).CombinedOutput(); err != nil {
			t.Errorf("host -> container over IPv6: %v\n%s", err, out)
		}
	})

	// the same through daemon.json's keys
	d2, err := testutil.NewDaemon()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d2.Close(); err != nil {
			t.Errorf("tear down berthd: %v", err)
		}
	})
	subnet6b := testSubnet6()
	conf := fmt.Sprintf(`{"ipv6": true, "fixed-cidr-v6": %q}`, subnet6b)
	if err := os.WriteFile(filepath.Join(d2.Root, "daemon.json"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d2.Start(); err != nil {
		t.Fatal(err)
	}
	if got := d2.Berth(t, "network", "inspect", "-f", "{{.EnableIPv6}} {{(index .IPAM.Config 1).Subnet}}", "bridge").Success(t).Out(); got != "true "+subnet6b {
		t.Errorf("default bridge from daemon.json = %q, want %q", got, "true "+subnet6b)
	}
}
