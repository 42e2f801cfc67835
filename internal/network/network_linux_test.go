package network

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	mdns "github.com/miekg/dns"
	"github.com/moby/moby/api/types/network"
	"github.com/vishvananda/netlink"
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root and a real kernel")
	}
}

// TestBridgeDriverKernel runs the bridge driver's scenarios on the real
// kernel (bridges, veths, namespaces, nftables, pings), so it needs root;
// the Manager's bookkeeping is tested without root on the recording fake
// (manager_test.go).
func TestBridgeDriverKernel(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"UserNetworkPingPortsDNS", testUserNetworkPingPortsDNS},
		{"IsolationAndInternal", testIsolationAndInternal},
		{"DefaultBridgeAndMultipleNetworks", testDefaultBridgeAndMultipleNetworks},
		{"RestartRestores", testRestartRestores},
		{"ConcurrentConnect", testConcurrentConnect},
		{"ReleaseAllThenRemoveNetNS", testReleaseAllThenRemoveNetNS},
		{"IPv6Network", testIPv6Network},
	} {
		t.Run(tc.name, tc.run)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// freeSubnet picks a random 10.x.y.0/24 that overlaps none of the host's
// routes and none of taken.
func freeSubnet(t testing.TB, taken ...netip.Prefix) netip.Prefix {
	t.Helper()
	routes, err := NewBridgeDriver(0).HostRoutes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		x, _ := rand.Int(rand.Reader, big.NewInt(150))
		y, _ := rand.Int(rand.Reader, big.NewInt(256))
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(100 + x.Int64()), byte(y.Int64()), 0}), 24)
		if !slices.ContainsFunc(append(routes, taken...), p.Overlaps) {
			return p
		}
	}
	t.Fatal("no free subnet")
	return netip.Prefix{}
}

type testEnv struct {
	m     *Manager
	cfg   Config
	tag   string
	nsDir string
}

// newEnv starts a manager with its own table, default bridge and subnet,
// and checks at cleanup that nothing it made is left.
func newEnv(t testing.TB) *testEnv {
	t.Helper()
	requireRoot(t)
	tag := "bt" + randHex(6)
	bip := freeSubnet(t)
	e := &testEnv{tag: tag, nsDir: t.TempDir()}
	e.cfg = Config{
		Root:          filepath.Join(t.TempDir(), "network"),
		ExecRoot:      e.nsDir,
		DefaultBridge: tag + "d",
		DefaultBIP:    netip.PrefixFrom(bip.Addr().Next(), 24),
		TableName:     "berthtest_" + tag,
		DNSUpstreams:  []string{}, // never forward outside in tests
	}
	m, err := New(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	t.Cleanup(func() { e.destroy(t) })
	return e
}

func (e *testEnv) destroy(t testing.TB) {
	ctx := context.Background()
	bridges := []string{}
	for _, n := range e.m.List() {
		if n.Bridge != "" {
			bridges = append(bridges, n.Bridge)
		}
	}
	if err := e.m.Destroy(ctx); err != nil {
		t.Errorf("destroy: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(e.nsDir, "netns"))
	for _, de := range entries {
		_ = RemoveNetNS(filepath.Join(e.nsDir, "netns", de.Name()))
	}
	// nothing left: bridges, veths, table, netns mounts
	for _, b := range bridges {
		if _, err := netlink.LinkByName(b); err == nil {
			t.Errorf("bridge %s left behind", b)
		}
	}
	if _, veths, _ := NewBridgeDriver(0).Owned(ctx, e.cfg.TableName); len(veths) > 0 {
		t.Errorf("veths left behind: %v", veths)
	}
	for _, family := range []string{"ip", "ip6"} {
		if out, err := exec.Command("nft", "list", "table", family, e.cfg.TableName).CombinedOutput(); err == nil {
			t.Errorf("nft %s table left behind:\n%s", family, out)
		}
	}
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), e.nsDir) {
		t.Errorf("netns mounts left under %s", e.nsDir)
	}
}

// container makes a namespace standing for a container.
func (e *testEnv) container(t *testing.T) (id, nsPath string) {
	t.Helper()
	id = randHex(64)
	path, err := e.m.NewNetNS(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = RemoveNetNS(path) })
	return id, path
}

func (e *testEnv) connect(t *testing.T, net string, opts EndpointOptions) *Endpoint {
	t.Helper()
	ep, err := e.m.Connect(context.Background(), net, opts)
	if err != nil {
		t.Fatalf("connect %s to %s: %v", opts.Name, net, err)
	}
	return ep
}

func (e *testEnv) createNet(t *testing.T, name string, opts CreateOptions) *Network {
	t.Helper()
	if opts.BridgeName == "" {
		opts.BridgeName = e.tag + name
	}
	if !opts.Subnet.IsValid() {
		var taken []netip.Prefix
		for _, n := range e.m.List() {
			taken = append(taken, n.Subnet)
		}
		opts.Subnet = freeSubnet(t, taken...)
	}
	n, err := e.m.Create(context.Background(), name, opts)
	if err != nil {
		t.Fatalf("create network %s: %v", name, err)
	}
	return n
}

// ping runs busybox ping inside a namespace.
func ping(nsPath string, dst netip.Addr) error {
	out, err := exec.Command("nsenter", "--net="+nsPath, "busybox", "ping", "-c1", "-W1", dst.String()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// serveHello listens on :port inside a namespace and answers every
// connection with msg.
func serveHello(t *testing.T, nsPath string, port int, msg string) {
	t.Helper()
	var l net.Listener
	err := InNetNS(nsPath, func() error {
		var err error
		l, err = net.Listen("tcp", ":"+strconv.Itoa(port))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, msg+"\n")
			_ = c.Close()
		}
	}()
}

// fetch connects to addr, from the host or from inside nsPath, and reads
// one line.
func fetch(nsPath string, addr netip.AddrPort) (string, error) {
	var c net.Conn
	dial := func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr.String(), 2*time.Second)
		return err
	}
	var err error
	if nsPath == "" {
		err = dial()
	} else {
		err = InNetNS(nsPath, dial)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// lookup queries the embedded DNS from inside a namespace.
func lookup(t *testing.T, nsPath, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	var resp *mdns.Msg
	err := InNetNS(nsPath, func() error {
		c := &mdns.Client{Timeout: 2 * time.Second}
		var err error
		resp, _, err = c.Exchange(m, "127.0.0.11:53")
		return err
	})
	if err != nil {
		t.Fatalf("dns %s in %s: %v", name, nsPath, err)
	}
	return resp
}

func aRecords(m *mdns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*mdns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

func testUserNetworkPingPortsDNS(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n := e.createNet(t, "dev", CreateOptions{Labels: map[string]string{"a": "b"}})

	id1, ns1 := e.container(t)
	id2, ns2 := e.container(t)
	web := e.connect(t, "dev", EndpointOptions{
		ContainerID: id1, Name: "/web", Aliases: []string{"search"}, NetNSPath: ns1,
		PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{}}},
		ExposedPorts: network.PortSet{network.MustParsePort("80/tcp"): {}, network.MustParsePort("53/udp"): {}},
	})
	client := e.connect(t, n.ID[:10], EndpointOptions{ContainerID: id2, Name: "client", Aliases: []string{"search"}, NetNSPath: ns2})

	if web.IfName != "eth0" || web.Gateway != n.Gateway || !n.Subnet.Contains(web.IPAddress) || web.MacAddress == "" {
		t.Fatalf("endpoint = %+v", web)
	}
	if len(web.Ports) != 1 || web.Ports[0].HostPort == 0 {
		t.Fatalf("ports = %+v", web.Ports)
	}
	pm := web.PortMap()
	if b := pm[network.MustParsePort("80/tcp")]; len(b) != 1 || b[0].HostPort != strconv.Itoa(int(web.Ports[0].HostPort)) {
		t.Fatalf("port map = %+v", pm)
	}
	if _, ok := pm[network.MustParsePort("53/udp")]; !ok {
		t.Fatalf("exposed port missing from port map: %+v", pm)
	}

	t.Run("inspect", func(t *testing.T) {
		in, err := e.m.Inspect("dev")
		if err != nil {
			t.Fatal(err)
		}
		got, ok := in.Containers[id1]
		if !ok || got.Name != "web" || got.IPv4Address != netip.PrefixFrom(web.IPAddress, n.Subnet.Bits()) || in.Labels["a"] != "b" ||
			len(in.IPAM.Config) != 1 || in.IPAM.Config[0].Gateway != n.Gateway || in.Driver != "bridge" || in.Scope != "local" {
			t.Fatalf("inspect = %+v", in)
		}
		s := web.Settings()
		if s.IPAddress != web.IPAddress || s.Gateway != n.Gateway || s.MacAddress.String() != web.MacAddress || !slices.Equal(s.DNSNames, []string{"web", "search", id1[:12]}) {
			t.Fatalf("settings = %+v", s)
		}
	})

	t.Run("ping between containers and from the host", func(t *testing.T) {
		if err := ping(ns2, web.IPAddress); err != nil {
			t.Fatalf("client -> web: %v", err)
		}
		if err := ping(ns1, client.IPAddress); err != nil {
			t.Fatalf("web -> client: %v", err)
		}
		if out, err := exec.Command("busybox", "ping", "-c1", "-W1", web.IPAddress.String()).CombinedOutput(); err != nil {
			t.Fatalf("host -> web: %v %s", err, out)
		}
	})

	serveHello(t, ns1, 80, "hello")
	hostPort := web.Ports[0].HostPort
	t.Run("published port", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			from   string
			target netip.AddrPort
		}{
			{"host via 127.0.0.1", "", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), hostPort)},
			{"host via container address", "", netip.AddrPortFrom(web.IPAddress, 80)},
			{"other container via gateway (hairpin)", ns2, netip.AddrPortFrom(n.Gateway, hostPort)},
			{"container to its own published port", ns1, netip.AddrPortFrom(n.Gateway, hostPort)},
		} {
			got, err := fetch(tc.from, tc.target)
			if err != nil || got != "hello" {
				t.Errorf("%s (%s): %q %v", tc.name, tc.target, got, err)
			}
		}
	})

	t.Run("port already allocated", func(t *testing.T) {
		id3, ns3 := e.container(t)
		_, err := e.m.Connect(ctx, "dev", EndpointOptions{ContainerID: id3, Name: "dup", NetNSPath: ns3,
			PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: strconv.Itoa(int(hostPort))}}}})
		if !errdefs.IsInternal(err) || !strings.Contains(err.Error(), "port is already allocated") {
			t.Fatalf("err = %v", err)
		}
		// a host process holds the port
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		busy := l.Addr().(*net.TCPAddr).Port
		_, err = e.m.Connect(ctx, "dev", EndpointOptions{ContainerID: id3, Name: "dup", NetNSPath: ns3,
			PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: strconv.Itoa(busy)}}}})
		if !errdefs.IsInternal(err) || !strings.Contains(err.Error(), "): Error starting userland proxy: listen tcp4 0.0.0.0:"+strconv.Itoa(busy)+": bind: address already in use") {
			t.Fatalf("err = %v", err)
		}
		if eps := e.m.Endpoints(id3); len(eps) != 0 {
			t.Fatalf("failed connect left endpoints: %+v", eps)
		}
		if e.m.driver.LinkExists(hostIfName(n.ID, id3)) {
			t.Fatal("failed connect left a veth")
		}
	})

	t.Run("dns", func(t *testing.T) {
		if got := aRecords(lookup(t, ns2, "web", mdns.TypeA)); !slices.Equal(got, []string{web.IPAddress.String()}) {
			t.Errorf("web = %v", got)
		}
		if got := aRecords(lookup(t, ns2, id1[:12], mdns.TypeA)); !slices.Equal(got, []string{web.IPAddress.String()}) {
			t.Errorf("short id = %v", got)
		}
		want := []string{web.IPAddress.String(), client.IPAddress.String()}
		slices.Sort(want)
		if got := aRecords(lookup(t, ns1, "search", mdns.TypeA)); !slices.Equal(got, want) {
			t.Errorf("alias search = %v, want %v", got, want)
		}
		rev, _ := mdns.ReverseAddr(client.IPAddress.String())
		resp := lookup(t, ns1, rev, mdns.TypePTR)
		if len(resp.Answer) != 1 || resp.Answer[0].(*mdns.PTR).Ptr != "client.dev." {
			t.Errorf("ptr = %v", resp.Answer)
		}
		if got := aRecords(lookup(t, ns1, "nosuchname", mdns.TypeA)); len(got) != 0 {
			t.Errorf("unknown name resolved: %v", got)
		}
	})

	t.Run("remove with active endpoints", func(t *testing.T) {
		err := e.m.Remove(ctx, "dev")
		if !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "has active endpoints") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("disconnect", func(t *testing.T) {
		if err := e.m.Disconnect(ctx, "dev", id1); err != nil {
			t.Fatal(err)
		}
		if err := e.m.Disconnect(ctx, "dev", id1); err != nil {
			t.Fatalf("second disconnect: %v", err)
		}
		if e.m.driver.LinkExists(web.HostIfName) {
			t.Fatal("veth left after disconnect")
		}
		if got := aRecords(lookup(t, ns2, "search", mdns.TypeA)); !slices.Equal(got, []string{client.IPAddress.String()}) {
			t.Errorf("alias after disconnect = %v", got)
		}
		if _, err := fetch("", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), hostPort)); err == nil {
			t.Error("published port still answers after disconnect")
		}
		if err := e.m.DisconnectAll(ctx, id2); err != nil {
			t.Fatal(err)
		}
		// the namespace's DNS server stopped with its last endpoint
		err := InNetNS(ns2, func() error {
			c := &mdns.Client{Timeout: 300 * time.Millisecond}
			m := new(mdns.Msg)
			m.SetQuestion("web.", mdns.TypeA)
			_, _, err := c.Exchange(m, "127.0.0.11:53")
			return err
		})
		if err == nil {
			t.Error("embedded DNS still answers after the last disconnect")
		}
		if err := e.m.Remove(ctx, "dev"); err != nil {
			t.Fatal(err)
		}
		if _, err := netlink.LinkByName(n.Bridge); err == nil {
			t.Fatal("bridge left after network rm")
		}
	})
}

func testIsolationAndInternal(t *testing.T) {
	e := newEnv(t)
	e.createNet(t, "a", CreateOptions{})
	e.createNet(t, "b", CreateOptions{})
	e.createNet(t, "c", CreateOptions{Internal: true})
	idA, nsA := e.container(t)
	idA2, nsA2 := e.container(t)
	idB, nsB := e.container(t)
	idC, nsC := e.container(t)
	epA := e.connect(t, "a", EndpointOptions{ContainerID: idA, Name: "ca", NetNSPath: nsA})
	epA2 := e.connect(t, "a", EndpointOptions{ContainerID: idA2, Name: "ca2", NetNSPath: nsA2})
	epB := e.connect(t, "b", EndpointOptions{ContainerID: idB, Name: "cb", NetNSPath: nsB})
	epC := e.connect(t, "c", EndpointOptions{ContainerID: idC, Name: "cc", NetNSPath: nsC})

	if err := ping(nsA, epA2.IPAddress); err != nil {
		t.Fatalf("same network: %v", err)
	}
	for _, tc := range []struct {
		name string
		from string
		to   netip.Addr
	}{
		{"a to b", nsA, epB.IPAddress},
		{"b to a", nsB, epA.IPAddress},
		{"a to internal c", nsA, epC.IPAddress},
		{"internal c to a", nsC, epA.IPAddress},
	} {
		if err := ping(tc.from, tc.to); err == nil {
			t.Errorf("%s: ping passed", tc.name)
		}
	}
	// TCP too, not only ICMP
	serveHello(t, nsB, 8080, "b")
	if _, err := fetch(nsA, netip.AddrPortFrom(epB.IPAddress, 8080)); err == nil {
		t.Error("a reached b over tcp")
	}
	if _, err := fetch("", netip.AddrPortFrom(epB.IPAddress, 8080)); err != nil {
		t.Errorf("host cannot reach b: %v", err)
	}
	if epC.Gateway.IsValid() && e.hasDefaultRoute(t, nsC) {
		t.Error("internal network gave a default route")
	}
	if got := aRecords(lookup(t, nsA, "cb", mdns.TypeA)); len(got) != 0 {
		t.Errorf("name of another network resolved: %v", got)
	}
	if got := aRecords(lookup(t, nsA, "ca2", mdns.TypeA)); !slices.Equal(got, []string{epA2.IPAddress.String()}) {
		t.Errorf("ca2 = %v", got)
	}
	if got := aRecords(lookup(t, nsC, "cc", mdns.TypeA)); !slices.Equal(got, []string{epC.IPAddress.String()}) {
		t.Errorf("internal network's own name = %v", got)
	}
}

func (e *testEnv) hasDefaultRoute(t *testing.T, nsPath string) bool {
	h, err := netlinkIn(nsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			return true
		}
	}
	return false
}

func testDefaultBridgeAndMultipleNetworks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	def, err := e.m.Get(DefaultNetwork)
	if err != nil {
		t.Fatal(err)
	}
	if def.Bridge != e.cfg.DefaultBridge || def.Gateway != e.cfg.DefaultBIP.Addr() || def.EmbeddedDNS() {
		t.Fatalf("default network = %+v", def)
	}
	for _, name := range []string{HostNetwork, NoneNetwork, DefaultNetwork} {
		if err := e.m.Remove(ctx, name); !errdefs.IsPermissionDenied(err) {
			t.Errorf("remove %s: %v", name, err)
		}
	}
	e.createNet(t, "second", CreateOptions{})
	id, ns := e.container(t)
	ep0 := e.connect(t, DefaultNetwork, EndpointOptions{ContainerID: id, Name: "multi", NetNSPath: ns,
		PortBindings: network.PortMap{network.MustParsePort("7000/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1")}}}})
	ep1 := e.connect(t, "second", EndpointOptions{ContainerID: id, Name: "multi", NetNSPath: ns, Aliases: []string{"m"}})
	if ep0.IfName != "eth0" || ep1.IfName != "eth1" || !ep0.DefaultRoute || ep1.DefaultRoute {
		t.Fatalf("interfaces: %+v %+v", ep0, ep1)
	}
	if ep0.Ports[0].HostIP.String() != "127.0.0.1" {
		t.Fatalf("ports = %+v", ep0.Ports)
	}
	serveHello(t, ns, 7000, "multi")
	if got, err := fetch("", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ep0.Ports[0].HostPort)); err != nil || got != "multi" {
		t.Fatalf("published on 127.0.0.1: %q %v", got, err)
	}
	// the embedded DNS serves the user-defined network's names even though
	// the default bridge has none
	if got := aRecords(lookup(t, ns, "m", mdns.TypeA)); !slices.Equal(got, []string{ep1.IPAddress.String()}) {
		t.Fatalf("m = %v", got)
	}
	if err := e.m.DisconnectAll(ctx, id); err != nil {
		t.Fatal(err)
	}
	if len(e.m.Endpoints(id)) != 0 {
		t.Fatal("endpoints left")
	}
}

func testRestartRestores(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.createNet(t, "keep", CreateOptions{})
	idLive, nsLive := e.container(t)
	idGone, nsGone := e.container(t)
	live := e.connect(t, "keep", EndpointOptions{ContainerID: idLive, Name: "live", NetNSPath: nsLive,
		PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{}}}})
	gone := e.connect(t, "keep", EndpointOptions{ContainerID: idGone, Name: "gone", NetNSPath: nsGone})
	serveHello(t, nsLive, 80, "live")

	if err := e.m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// while berthd is away, one container's namespace goes (its veth with it)
	if err := RemoveNetNS(nsGone); err != nil {
		t.Fatal(err)
	}
	waitGone(t, gone.HostIfName)
	// a stale berth link the state does not know
	stale := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: e.tag + "x"}}
	if err := netlink.LinkAdd(stale); err != nil {
		t.Fatal(err)
	}
	link, _ := netlink.LinkByName(stale.Name)
	_ = netlink.LinkSetAlias(link, aliasPrefix(e.cfg.TableName)+"net:deadbeef")
	// and the firewall table was lost
	_ = e.m.fw.Delete(ctx)

	m2, err := New(ctx, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m2
	if eps := m2.Endpoints(idGone); len(eps) != 0 {
		t.Errorf("endpoint of a gone namespace restored: %+v", eps)
	}
	eps := m2.Endpoints(idLive)
	if len(eps) != 1 || eps[0].IPAddress != live.IPAddress || len(eps[0].Ports) != 1 {
		t.Fatalf("restored endpoints = %+v", eps)
	}
	if _, err := netlink.LinkByName(stale.Name); err == nil {
		_ = netlink.LinkDel(stale)
		t.Error("stale bridge not removed")
	}
	if got, err := fetch("", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), live.Ports[0].HostPort)); err != nil || got != "live" {
		t.Errorf("published port after restart: %q %v", got, err)
	}
	if got := aRecords(lookup(t, nsLive, "live", mdns.TypeA)); !slices.Equal(got, []string{live.IPAddress.String()}) {
		t.Errorf("dns after restart = %v", got)
	}
	// the released address and the port reservation are consistent
	if _, err := m2.Connect(ctx, "keep", EndpointOptions{ContainerID: randHex(64), Name: "x", NetNSPath: nsLive, IPv4: live.IPAddress}); !errdefs.IsConflict(err) {
		t.Errorf("address of a restored endpoint handed out again: %v", err)
	}
	if _, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(int(live.Ports[0].HostPort))); err == nil {
		t.Error("restored published port is not reserved on the host")
	}
}

func waitGone(t *testing.T, link string) {
	t.Helper()
	for range 100 {
		if _, err := netlink.LinkByName(link); err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s still exists", link)
}

func testConcurrentConnect(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.createNet(t, "par", CreateOptions{})
	const n = 8
	type result struct {
		id  string
		ep  *Endpoint
		err error
	}
	results := make(chan result, n)
	for i := range n {
		id, ns := e.container(t)
		go func() {
			ep, err := e.m.Connect(ctx, "par", EndpointOptions{ContainerID: id, Name: fmt.Sprintf("c%d", i), NetNSPath: ns,
				PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{}}}})
			results <- result{id, ep, err}
		}()
	}
	ips, ports := map[netip.Addr]bool{}, map[uint16]bool{}
	var ids []string
	for range n {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		if ips[r.ep.IPAddress] || ports[r.ep.Ports[0].HostPort] {
			t.Fatalf("duplicate address or port: %+v", r.ep)
		}
		ips[r.ep.IPAddress], ports[r.ep.Ports[0].HostPort] = true, true
		ids = append(ids, r.id)
	}
	out, _ := exec.Command("nft", "list", "chain", "ip", e.cfg.TableName, "ports").CombinedOutput()
	if c := strings.Count(string(out), "dnat to"); c != n {
		t.Fatalf("%d port rules, want %d:\n%s", c, n, out)
	}
	errs := make(chan error, n)
	for _, id := range ids {
		go func() { errs <- e.m.DisconnectAll(ctx, id) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	out, _ = exec.Command("nft", "list", "chain", "ip", e.cfg.TableName, "ports").CombinedOutput()
	if strings.Contains(string(out), "dnat to") {
		t.Fatalf("port rules left:\n%s", out)
	}
}

// ReleaseAll frees a stopped container's endpoints (address, name) without
// deleting its veth pair, which the namespace's removal takes care of.
func testReleaseAllThenRemoveNetNS(t *testing.T) {
	e := newEnv(t)
	n := e.createNet(t, "rel", CreateOptions{})
	id, path := e.container(t)
	ep := e.connect(t, n.Name, EndpointOptions{ContainerID: id, Name: "rel-" + id[:6], NetNSPath: path})
	if _, err := netlink.LinkByName(ep.HostIfName); err != nil {
		t.Fatalf("veth %s missing after connect: %v", ep.HostIfName, err)
	}
	if err := e.m.ReleaseAll(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if got := e.m.Endpoints(id); len(got) != 0 {
		t.Errorf("endpoints after ReleaseAll: %v", got)
	}
	if err := RemoveNetNS(path); err != nil {
		t.Fatal(err)
	}
	// The kernel deletes the pair once nothing holds the namespace; in this
	// test process a thread that served it may still be exiting, so the
	// veth's disappearance is checked end to end against berthd
	// (integration's TestNetworkNoLeftovers), and removed here if present.
	_ = deleteLink(ep.HostIfName)
	// the address is free again: another container may ask for it
	id2, path2 := e.container(t)
	ep2 := e.connect(t, n.Name, EndpointOptions{ContainerID: id2, Name: "rel2-" + id2[:6], NetNSPath: path2, IPv4: ep.IPAddress})
	if ep2.IPAddress != ep.IPAddress {
		t.Errorf("address after release = %s, want the released %s", ep2.IPAddress, ep.IPAddress)
	}
	if err := e.m.Disconnect(context.Background(), n.Name, id2); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Remove(context.Background(), n.Name); err != nil {
		t.Fatal(err)
	}
}

func testIPv6Network(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	n := e.createNet(t, "six", CreateOptions{EnableIPv6: true})
	if !n.EnableIPv6 || !n.Subnet6.Addr().Is6() || n.Subnet6.Bits() != 64 || !netip.MustParsePrefix("fd00::/8").Contains(n.Subnet6.Addr()) || n.Gateway6 != n.Subnet6.Addr().Next() {
		t.Fatalf("network = %+v", n)
	}
	id1, ns1 := e.container(t)
	id2, ns2 := e.container(t)
	web := e.connect(t, "six", EndpointOptions{ContainerID: id1, Name: "web6", NetNSPath: ns1,
		PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{}}}})
	client := e.connect(t, "six", EndpointOptions{ContainerID: id2, Name: "client6", NetNSPath: ns2})
	if !n.Subnet6.Contains(web.IPv6Address) || web.IPv6Gateway != n.Gateway6 || web.IPv6PrefixLen != 64 {
		t.Fatalf("endpoint = %+v", web)
	}
	if len(web.Ports) != 2 || web.Ports[0].HostPort != web.Ports[1].HostPort || web.Ports[1].HostIPString() != "::" || web.Ports[1].ContainerIP != web.IPv6Address {
		t.Fatalf("ports = %+v", web.Ports)
	}
	if err := ping(ns2, web.IPv6Address); err != nil {
		t.Fatalf("ping6 between containers: %v", err)
	}
	if got := lookup(t, ns2, "web6", mdns.TypeAAAA); len(got.Answer) != 1 || got.Answer[0].(*mdns.AAAA).AAAA.String() != web.IPv6Address.String() {
		t.Fatalf("AAAA web6 = %v", got.Answer)
	}
	serveHello(t, ns1, 80, "six")
	port := web.Ports[0].HostPort
	for _, target := range []netip.AddrPort{
		netip.AddrPortFrom(netip.IPv6Loopback(), port),             // forwarded by the reservation
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), // the IPv4 twin
		netip.AddrPortFrom(n.Gateway6, port),                       // DNAT to a local IPv6 address
		netip.AddrPortFrom(web.IPv6Address, 80),                    // straight to the container
	} {
		if got, err := fetch("", target); err != nil || got != "six" {
			t.Errorf("%s: %q %v", target, got, err)
		}
	}
	if got, err := fetch(ns2, netip.AddrPortFrom(n.Gateway6, port)); err != nil || got != "six" {
		t.Errorf("container to a published [::] port: %q %v", got, err)
	}
	// an IPv4-only network: no IPv6 on the container's interface
	e.createNet(t, "four", CreateOptions{})
	id3, ns3 := e.container(t)
	e.connect(t, "four", EndpointOptions{ContainerID: id3, Name: "four", NetNSPath: ns3})
	if out, err := exec.Command("nsenter", "--net="+ns3, "cat", "/proc/sys/net/ipv6/conf/eth0/disable_ipv6").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Errorf("disable_ipv6 on an IPv4-only network = %q %v", out, err)
	}
	// restart: the IPv6 pool is rebuilt and the ULA kept
	if err := e.m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	m2, err := New(ctx, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m2
	if _, err := m2.Connect(ctx, "six", EndpointOptions{ContainerID: randHex(64), Name: "x", NetNSPath: ns3, IPv6: web.IPv6Address}); !errdefs.IsConflict(err) {
		t.Errorf("IPv6 address of a restored endpoint handed out again: %v", err)
	}
	if got, err := fetch("", netip.AddrPortFrom(netip.IPv6Loopback(), port)); err != nil || got != "six" {
		t.Errorf("[::1] after restart: %q %v", got, err)
	}
	second := e.createNet(t, "six2", CreateOptions{EnableIPv6: true})
	if second.Subnet6.Overlaps(n.Subnet6) || netip.PrefixFrom(second.Subnet6.Addr(), 48).Masked() != netip.PrefixFrom(n.Subnet6.Addr(), 48).Masked() {
		t.Errorf("second IPv6 subnet %s, first %s: want the next /64 of the same /48", second.Subnet6, n.Subnet6)
	}
	for _, id := range []string{id1, id2, id3} {
		if err := m2.DisconnectAll(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	_ = client
}
