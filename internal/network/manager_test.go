package network_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/miekg/dns"
	mobynet "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/network/networktest"
)

// fakeEnv is a Manager over the recording fakes: no root, no kernel.
type fakeEnv struct {
	m   *network.Manager
	cfg network.Config
	d   *networktest.Driver
	fw  *networktest.Firewall
}

func newFakeEnv(t *testing.T, mod ...func(*network.Config)) *fakeEnv {
	t.Helper()
	e := &fakeEnv{d: networktest.NewDriver(), fw: &networktest.Firewall{}}
	// the host routes its LAN through 172.19.0.0/16: automatic subnets avoid it
	e.d.Routes = []netip.Prefix{netip.MustParsePrefix("172.19.0.0/16")}
	e.cfg = network.Config{
		Root:          filepath.Join(t.TempDir(), "network"),
		ExecRoot:      t.TempDir(),
		DefaultBridge: "fake0",
		Driver:        e.d,
		Firewall:      e.fw,
		DNSUpstreams:  []string{},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, f := range mod {
		f(&e.cfg)
	}
	e.start(t)
	return e
}

func (e *fakeEnv) start(t *testing.T) {
	t.Helper()
	m, err := network.New(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	t.Cleanup(func() { _ = m.Close(context.Background()) })
}

// container records a namespace for a new container id.
func (e *fakeEnv) container(name string) (id, ns string) {
	id = strings.Repeat(name[:1], 64)
	ns = "/fake/netns/" + name
	e.d.AddNetNS(ns)
	return id, ns
}

func (e *fakeEnv) connect(t *testing.T, net, name string, opts network.EndpointOptions) *network.Endpoint {
	t.Helper()
	if opts.ContainerID == "" {
		opts.ContainerID, opts.NetNSPath = e.container(name)
	}
	opts.Name = name
	ep, err := e.m.Connect(context.Background(), net, opts)
	if err != nil {
		t.Fatalf("connect %s to %s: %v", name, net, err)
	}
	return ep
}

func TestManagerNetworks(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	var names []string
	for _, n := range e.m.List() {
		names = append(names, n.Name+"/"+n.Driver)
	}
	if !slices.Equal(names, []string{"bridge/bridge", "host/host", "none/null"}) {
		t.Fatalf("predefined networks = %v", names)
	}
	if _, ok := e.d.Bridges()["fake0"]; !ok {
		t.Fatalf("default bridge not made: %v", e.d.Bridges())
	}

	a, err := e.m.Create(ctx, "a", network.CreateOptions{Labels: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	// 172.17 is the default bridge's, 172.18 is free, 172.19 a host route
	if a.Subnet.String() != "172.18.0.0/16" || a.Gateway.String() != "172.18.0.1" || a.Bridge != "br-"+a.ID[:12] {
		t.Fatalf("a = %+v", a)
	}
	b, err := e.m.Create(ctx, "b", network.CreateOptions{})
	if err != nil || b.Subnet.String() != "172.20.0.0/16" {
		t.Fatalf("b = %+v %v (172.19.0.0/16 is routed on the host)", b, err)
	}
	six, err := e.m.Create(ctx, "six", network.CreateOptions{EnableIPv6: true, Internal: true})
	if err != nil || !six.EnableIPv6 || six.Subnet6.Bits() != 64 || !netip.MustParsePrefix("fd00::/8").Contains(six.Subnet6.Addr()) {
		t.Fatalf("six = %+v %v", six, err)
	}
	fixed, err := e.m.Create(ctx, "fixed6", network.CreateOptions{EnableIPv6: true, Subnet6: netip.MustParsePrefix("fd00:1:2:3::/64"), Gateway6: netip.MustParseAddr("fd00:1:2:3::fe")})
	if err != nil || fixed.Gateway6.String() != "fd00:1:2:3::fe" {
		t.Fatalf("fixed6 = %+v %v", fixed, err)
	}
	ignored, err := e.m.Create(ctx, "v6ignored", network.CreateOptions{Subnet6: netip.MustParsePrefix("fd00:9::/64")})
	if err != nil || ignored.EnableIPv6 || ignored.Subnet6.IsValid() {
		t.Fatalf("an IPv6 subnet without --ipv6 is ignored, as docker does: %+v %v", ignored, err)
	}

	for _, tt := range []struct {
		name string
		opts network.CreateOptions
		is   func(error) bool
	}{
		{"a", network.CreateOptions{}, errdefs.IsConflict},
		{"overlap", network.CreateOptions{Subnet: netip.MustParsePrefix("172.18.3.0/24")}, errdefs.IsPermissionDenied},
		{"overlap6", network.CreateOptions{EnableIPv6: true, Subnet6: netip.MustParsePrefix("fd00:1:2::/48")}, errdefs.IsPermissionDenied},
		{"v4as6", network.CreateOptions{EnableIPv6: true, Subnet6: netip.MustParsePrefix("10.5.0.0/16")}, errdefs.IsInvalidArgument},
		{"gw6", network.CreateOptions{EnableIPv6: true, Gateway6: netip.MustParseAddr("fd00::1")}, errdefs.IsInvalidArgument},
		{"host", network.CreateOptions{Driver: "host"}, errdefs.IsPermissionDenied},
		{"overlay", network.CreateOptions{Driver: "overlay"}, errdefs.IsNotFound},
	} {
		if _, err := e.m.Create(ctx, tt.name, tt.opts); !tt.is(err) {
			t.Errorf("create %s: %v", tt.name, err)
		}
	}

	rs := e.fw.Ruleset()
	if rs == nil || len(rs.Networks) != 6 {
		t.Fatalf("firewall networks = %+v", rs)
	}
	for _, n := range rs.Networks {
		if n.Bridge == six.Bridge && (n.Subnet6 != six.Subnet6 || !n.Internal) {
			t.Errorf("firewall view of six = %+v", n)
		}
	}

	if err := e.m.Remove(ctx, "bridge"); !errdefs.IsPermissionDenied(err) {
		t.Errorf("remove bridge: %v", err)
	}
	if err := e.m.Remove(ctx, a.ID[:6]); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.d.Bridges()[a.Bridge]; ok {
		t.Error("bridge of a removed network left")
	}
	pruned, err := e.m.Prune(ctx, func(n *network.Network) bool { return n.EnableIPv6 })
	if err != nil || !slices.Equal(pruned, []string{"fixed6", "six"}) {
		t.Fatalf("prune = %v %v", pruned, err)
	}
	// a removed subnet is free again
	again, err := e.m.Create(ctx, "again", network.CreateOptions{})
	if err != nil || again.Subnet != a.Subnet {
		t.Fatalf("again = %+v %v, want %s back", again, err, a.Subnet)
	}
}

func TestManagerEndpoints(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	n, err := e.m.Create(ctx, "app", network.CreateOptions{Subnet: netip.MustParsePrefix("10.7.0.0/24"), EnableIPv6: true, Subnet6: netip.MustParsePrefix("fd00:7::/64")})
	if err != nil {
		t.Fatal(err)
	}
	web := e.connect(t, "app", "web", network.EndpointOptions{
		Aliases:      []string{"svc"},
		PortBindings: mobynet.PortMap{mobynet.MustParsePort("80/tcp"): {{}}},
		ExposedPorts: mobynet.PortSet{mobynet.MustParsePort("80/tcp"): {}},
	})
	if web.IPAddress.String() != "10.7.0.2" || web.IPv6Address.String() != "fd00:7::2" || web.IPv6Gateway != n.Gateway6 || web.IfName != "eth0" || !web.DefaultRoute || web.MacAddress != "02:42:0a:07:00:02" {
		t.Fatalf("web = %+v", web)
	}
	if s := web.Settings(); s.GlobalIPv6Address != web.IPv6Address || s.GlobalIPv6PrefixLen != 64 || s.IPv6Gateway.String() != "fd00:7::1" {
		t.Fatalf("settings = %+v", s)
	}
	// published on 0.0.0.0 and [::], same port, each to its family's address
	if got := e.d.Reserved(); !slices.Equal(got, []string{"tcp/0.0.0.0:40000", "tcp/[::]:40000"}) {
		t.Fatalf("reserved = %v", got)
	}
	pm := web.PortMap()[mobynet.MustParsePort("80/tcp")]
	if len(pm) != 2 || pm[0].HostIP.String() != "0.0.0.0" || pm[1].HostIP.String() != "::" || pm[1].HostPort != "40000" {
		t.Fatalf("port map = %+v", pm)
	}
	ports := e.fw.Ruleset().Ports
	if len(ports) != 2 || ports[0].ContainerIP != web.IPAddress || ports[1].ContainerIP != web.IPv6Address {
		t.Fatalf("firewall ports = %+v", ports)
	}

	// --ip and --ip6; a second network gives eth1 and no second default route
	db := e.connect(t, "app", "db", network.EndpointOptions{IPv4: netip.MustParseAddr("10.7.0.50"), IPv6: netip.MustParseAddr("fd00:7::50"), Aliases: []string{"svc"}})
	if db.IPAddress.String() != "10.7.0.50" || db.IPv6Address.String() != "fd00:7::50" {
		t.Fatalf("db = %+v", db)
	}
	if _, err := e.m.Create(ctx, "other", network.CreateOptions{Subnet: netip.MustParsePrefix("10.8.0.0/24")}); err != nil {
		t.Fatal(err)
	}
	db2 := e.connect(t, "other", "db", network.EndpointOptions{ContainerID: db.ContainerID, NetNSPath: db.NetNSPath})
	if db2.IfName != "eth1" || db2.DefaultRoute || db2.IPv6Address.IsValid() {
		t.Fatalf("second endpoint = %+v", db2)
	}
	if eps := e.m.Endpoints(db.ContainerID); len(eps) != 2 || eps[0].NetworkName != "app" {
		t.Fatalf("endpoints of db = %+v", eps)
	}

	for _, tt := range []struct {
		name string
		net  string
		opts network.EndpointOptions
		is   func(error) bool
	}{
		{"address in use", "app", network.EndpointOptions{IPv4: netip.MustParseAddr("10.7.0.50")}, errdefs.IsConflict},
		{"ipv6 address in use", "app", network.EndpointOptions{IPv6: netip.MustParseAddr("fd00:7::50")}, errdefs.IsConflict},
		{"ipv6 address on an ipv4 network", "other", network.EndpointOptions{IPv6: netip.MustParseAddr("fd00:7::60")}, errdefs.IsInvalidArgument},
		{"address on the default bridge", "bridge", network.EndpointOptions{IPv4: netip.MustParseAddr("172.17.0.9")}, errdefs.IsInvalidArgument},
		{"port taken", "app", network.EndpointOptions{PortBindings: mobynet.PortMap{mobynet.MustParsePort("81/tcp"): {{HostPort: "40000"}}}}, errdefs.IsInternal},
		{"unknown network", "nope", network.EndpointOptions{}, errdefs.IsNotFound},
	} {
		id, ns := e.container("x" + tt.name)
		tt.opts.ContainerID, tt.opts.NetNSPath, tt.opts.Name = id, ns, "x"
		if _, err := e.m.Connect(ctx, tt.net, tt.opts); !tt.is(err) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if len(e.m.Endpoints(id)) != 0 {
			t.Errorf("%s: a failed connect left an endpoint", tt.name)
		}
	}

	// a failing kernel leaves nothing behind: address and port free again
	e.d.FailAttach = errors.New("no veth for you")
	failID, failNS := e.container("fail")
	_, err = e.m.Connect(ctx, "app", network.EndpointOptions{ContainerID: failID, NetNSPath: failNS, Name: "fail",
		PortBindings: mobynet.PortMap{mobynet.MustParsePort("80/tcp"): {{HostPort: "40050"}}}})
	if err == nil || !strings.Contains(err.Error(), "no veth for you") {
		t.Fatalf("failing attach: %v", err)
	}
	e.d.FailAttach = nil
	if slices.ContainsFunc(e.d.Reserved(), func(s string) bool { return strings.Contains(s, "40050") }) {
		t.Fatalf("port of a failed connect still held: %v", e.d.Reserved())
	}
	e.connect(t, "app", "next", network.EndpointOptions{})

	t.Run("dns", func(t *testing.T) {
		addr := e.d.DNSAddr(web.NetNSPath)
		if addr == "" {
			t.Fatal("no embedded DNS for a user-defined network")
		}
		query := func(name string, qtype uint16) []string {
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(name), qtype)
			resp, err := dns.Exchange(m, addr)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, rr := range resp.Answer {
				switch r := rr.(type) {
				case *dns.A:
					out = append(out, r.A.String())
				case *dns.AAAA:
					out = append(out, r.AAAA.String())
				}
			}
			return out
		}
		if got := query("db", dns.TypeAAAA); !slices.Equal(got, []string{"fd00:7::50"}) {
			t.Errorf("AAAA db = %v", got)
		}
		firsts := map[string]bool{}
		for range 50 {
			got := query("svc", dns.TypeA)
			if len(got) != 2 {
				t.Fatalf("svc = %v", got)
			}
			firsts[got[0]] = true
		}
		if len(firsts) != 2 {
			t.Errorf("the alias's first answer never changes: %v", firsts)
		}
	})

	// Disconnect deletes the veth; ReleaseAll leaves it to the namespace
	if err := e.m.Disconnect(ctx, "app", web.ContainerID); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.d.Veths()[web.HostIfName]; ok || len(e.d.Reserved()) != 0 || len(e.fw.Ruleset().Ports) != 0 {
		t.Fatalf("after disconnect: veths %v, reserved %v, ports %v", e.d.Veths(), e.d.Reserved(), e.fw.Ruleset().Ports)
	}
	if err := e.m.Disconnect(ctx, "app", web.ContainerID); err != nil {
		t.Fatalf("second disconnect: %v", err)
	}
	if err := e.m.ReleaseAll(ctx, db.ContainerID); err != nil {
		t.Fatal(err)
	}
	if len(e.m.Endpoints(db.ContainerID)) != 0 {
		t.Fatal("endpoints after ReleaseAll")
	}
	if _, ok := e.d.Veths()[db.HostIfName]; !ok {
		t.Fatal("ReleaseAll deleted a veth the namespace's removal takes")
	}
	again := e.connect(t, "app", "db-again", network.EndpointOptions{IPv4: netip.MustParseAddr("10.7.0.50"), IPv6: netip.MustParseAddr("fd00:7::50")})
	if again.IPAddress.String() != "10.7.0.50" {
		t.Fatalf("released address not free: %+v", again)
	}
	if err := e.m.Remove(ctx, "app"); !errdefs.IsPermissionDenied(err) || !strings.Contains(err.Error(), "active endpoints") {
		t.Fatalf("remove in use: %v", err)
	}
}

func TestManagerRestore(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	if _, err := e.m.Create(ctx, "keep", network.CreateOptions{Subnet: netip.MustParsePrefix("10.9.0.0/24"), EnableIPv6: true}); err != nil {
		t.Fatal(err)
	}
	live := e.connect(t, "keep", "live", network.EndpointOptions{PortBindings: mobynet.PortMap{mobynet.MustParsePort("80/tcp"): {{HostPort: "40010"}}}})
	gone := e.connect(t, "keep", "gone", network.EndpointOptions{})
	keep, _ := e.m.Get("keep")
	if err := e.m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if len(e.d.Reserved()) != 0 {
		t.Fatalf("Close kept port reservations: %v", e.d.Reserved())
	}
	// while berthd is away: a container's namespace goes, and a stale link appears
	e.d.RemoveNetNS(gone.NetNSPath)
	if err := e.d.EnsureBridge(ctx, &network.Network{Bridge: "stale0"}, ""); err != nil {
		t.Fatal(err)
	}
	_ = e.fw.Delete(ctx)
	e.d.Calls()

	e.start(t)
	if eps := e.m.Endpoints(gone.ContainerID); len(eps) != 0 {
		t.Errorf("endpoint of a gone namespace restored: %+v", eps)
	}
	eps := e.m.Endpoints(live.ContainerID)
	if len(eps) != 1 || eps[0].IPAddress != live.IPAddress || eps[0].IPv6Address != live.IPv6Address || len(eps[0].Ports) != 2 {
		t.Fatalf("restored = %+v", eps)
	}
	if e.d.LinkExists("stale0") {
		t.Error("stale link kept")
	}
	if got := e.d.Reserved(); !slices.Equal(got, []string{"tcp/0.0.0.0:40010", "tcp/[::]:40010"}) {
		t.Errorf("reservations after restore = %v", got)
	}
	if rs := e.fw.Ruleset(); rs == nil || len(rs.Ports) != 2 {
		t.Errorf("firewall after restore = %+v", rs)
	}
	if e.d.DNSAddr(live.NetNSPath) == "" {
		t.Error("embedded DNS not restarted")
	}
	// addresses: the live one's are held, the gone one's are free
	id, ns := e.container("newcomer")
	for _, tt := range []struct {
		opts network.EndpointOptions
		ok   bool
	}{
		{network.EndpointOptions{IPv4: live.IPAddress}, false},
		{network.EndpointOptions{IPv6: live.IPv6Address}, false},
		{network.EndpointOptions{IPv4: gone.IPAddress, IPv6: gone.IPv6Address}, true},
	} {
		tt.opts.ContainerID, tt.opts.NetNSPath, tt.opts.Name = id, ns, "newcomer"
		_, err := e.m.Connect(ctx, "keep", tt.opts)
		if (err == nil) != tt.ok {
			t.Errorf("connect %+v: %v", tt.opts, err)
		}
	}
	// the IPv6 pool is stable: a new IPv6 network comes from the same /48
	next, err := e.m.Create(ctx, "next6", network.CreateOptions{EnableIPv6: true})
	if err != nil || netip.PrefixFrom(next.Subnet6.Addr(), 48).Masked() != netip.PrefixFrom(keep.Subnet6.Addr(), 48).Masked() || next.Subnet6 == keep.Subnet6 {
		t.Fatalf("next6 = %v %v, keep6 = %v", next.Subnet6, err, keep.Subnet6)
	}
}

func TestManagerDefaultBridgeIPv6(t *testing.T) {
	e := newFakeEnv(t, func(c *network.Config) {
		c.DefaultIPv6 = true
		c.DefaultFixedCIDRv6 = netip.MustParsePrefix("fd00:abcd::/64")
	})
	def, err := e.m.Get("bridge")
	if err != nil || !def.EnableIPv6 || def.Subnet6.String() != "fd00:abcd::/64" || def.Gateway6.String() != "fd00:abcd::1" {
		t.Fatalf("default bridge = %+v %v", def, err)
	}
	ep := e.connect(t, "bridge", "c", network.EndpointOptions{})
	if ep.IPv6Address.String() != "fd00:abcd::2" {
		t.Fatalf("endpoint = %+v", ep)
	}
	if err := e.m.ReleaseAll(context.Background(), ep.ContainerID); err != nil {
		t.Fatal(err)
	}
	// without --fixed-cidr-v6 a subnet comes from the pools, and stays over restarts
	_ = e.m.Close(context.Background())
	e.cfg.DefaultFixedCIDRv6 = netip.Prefix{}
	e.start(t)
	def, _ = e.m.Get("bridge")
	if def.Subnet6.String() != "fd00:abcd::/64" {
		t.Fatalf("subnet changed without a new setting: %s", def.Subnet6)
	}
	_ = e.m.Close(context.Background())
	e.cfg.DefaultIPv6 = false
	e.start(t)
	def, _ = e.m.Get("bridge")
	if def.EnableIPv6 || def.Subnet6.IsValid() {
		t.Fatalf("IPv6 kept after --ipv6 went: %+v", def)
	}
	_ = e.m.Close(context.Background())
	e.cfg.DefaultIPv6 = true
	e.start(t)
	def, _ = e.m.Get("bridge")
	if !def.EnableIPv6 || !netip.MustParsePrefix("fd00::/8").Contains(def.Subnet6.Addr()) {
		t.Fatalf("default bridge with --ipv6 alone = %+v", def)
	}
}

func TestManagerConcurrentConnect(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	if _, err := e.m.Create(ctx, "par", network.CreateOptions{EnableIPv6: true}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make(chan error, n)
	ids := make([]string, n)
	for i := range n {
		id, ns := e.container(string(rune('a' + i)))
		ids[i] = id
		go func() {
			_, err := e.m.Connect(ctx, "par", network.EndpointOptions{ContainerID: id, Name: id[:3], NetNSPath: ns,
				PortBindings: mobynet.PortMap{mobynet.MustParsePort("80/tcp"): {{}}}})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		eps := e.m.Endpoints(id)
		if len(eps) != 1 {
			t.Fatalf("endpoints of %s = %+v", id[:3], eps)
		}
		for _, k := range []string{eps[0].IPAddress.String(), eps[0].IPv6Address.String(), eps[0].Ports[0].String()} {
			if seen[k] {
				t.Fatalf("%s handed out twice", k)
			}
			seen[k] = true
		}
	}
	if got := len(e.fw.Ruleset().Ports); got != 2*n {
		t.Fatalf("%d firewall ports, want %d", got, 2*n)
	}
	for _, id := range ids {
		go func() { errs <- e.m.DisconnectAll(ctx, id) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if len(e.fw.Ruleset().Ports) != 0 || len(e.d.Reserved()) != 0 || len(e.d.Veths()) != 0 {
		t.Fatalf("left after disconnects: ports %v, reserved %v, veths %v", e.fw.Ruleset().Ports, e.d.Reserved(), e.d.Veths())
	}
}

func TestManagerCreateErrors(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	n, err := e.m.Create(ctx, "taken", network.CreateOptions{Subnet: netip.MustParsePrefix("10.60.0.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	other := netip.MustParsePrefix("10.61.0.0/24")
	tests := []struct {
		name string
		net  string
		opts network.CreateOptions
		is   func(error) bool
		msg  string
	}{
		{"duplicate name", "taken", network.CreateOptions{}, errdefs.IsConflict, "network with name taken already exists"},
		{"overlapping subnet", "o", network.CreateOptions{Subnet: netip.MustParsePrefix("10.60.0.0/25"), BridgeName: "bro"}, errdefs.IsPermissionDenied, "Pool overlaps"},
		{"gateway outside", "g", network.CreateOptions{Subnet: other, Gateway: netip.MustParseAddr("192.0.2.1"), BridgeName: "brg"}, errdefs.IsInvalidArgument, "no matching subnet for gateway 192.0.2.1"},
		{"ip range outside", "r", network.CreateOptions{Subnet: other, IPRange: netip.MustParsePrefix("192.0.2.0/28"), BridgeName: "brr"}, errdefs.IsInvalidArgument, "no matching subnet for range"},
		{"ipv6 subnet as the ipv4 one", "v6", network.CreateOptions{Subnet: netip.MustParsePrefix("fd00::/64"), BridgeName: "br6"}, errdefs.IsInvalidArgument, "invalid subnet"},
		{"gateway without subnet", "gw", network.CreateOptions{Gateway: netip.MustParseAddr("10.62.0.1"), BridgeName: "brgw"}, errdefs.IsInvalidArgument, "needs a subnet"},
		{"unknown driver", "d", network.CreateOptions{Driver: "overlay"}, errdefs.IsNotFound, `plugin "overlay" not found`},
		{"bridge in use", "bu", network.CreateOptions{Subnet: other, BridgeName: n.Bridge}, errdefs.IsConflict, "already in use"},
		{"bridge name too long", "long", network.CreateOptions{Subnet: other, BridgeName: "a-very-long-bridge-name"}, errdefs.IsInvalidArgument, "invalid bridge name"},
		{"no name", "", network.CreateOptions{}, errdefs.IsInvalidArgument, "network name is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.m.Create(ctx, tt.net, tt.opts)
			if !tt.is(err) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v", err)
			}
			if tt.opts.BridgeName != "" && tt.opts.BridgeName != n.Bridge && e.d.LinkExists(tt.opts.BridgeName) {
				t.Fatal("failed create left a bridge")
			}
		})
	}
	if _, err := e.m.Get("nosuch"); !errdefs.IsNotFound(err) {
		t.Errorf("get unknown: %v", err)
	}
	id, ns := e.container("erring")
	_, err = e.m.Connect(ctx, "taken", network.EndpointOptions{ContainerID: id, NetNSPath: ns, IPv4: other.Addr().Next()})
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "no configured subnet or ip-range contain the IP address") {
		t.Errorf("--ip outside: %v", err)
	}
	if _, err := e.m.Connect(ctx, "taken", network.EndpointOptions{ContainerID: id}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("connect without a namespace: %v", err)
	}
	e.connect(t, "taken", "erring", network.EndpointOptions{ContainerID: id, NetNSPath: ns})
	if _, err := e.m.Connect(ctx, "taken", network.EndpointOptions{ContainerID: id, NetNSPath: ns}); !errdefs.IsConflict(err) {
		t.Errorf("second connect: %v", err)
	}
	if _, err := e.m.Connect(ctx, "host", network.EndpointOptions{ContainerID: id, NetNSPath: ns}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("connect to host: %v", err)
	}
	pruned, err := e.m.Prune(ctx, nil)
	if err != nil || len(pruned) != 0 {
		t.Errorf("prune of a used network: %v %v", pruned, err)
	}
	_ = e.m.DisconnectAll(ctx, id)
	pruned, err = e.m.Prune(ctx, nil)
	if err != nil || !slices.Equal(pruned, []string{"taken"}) {
		t.Errorf("prune: %v %v", pruned, err)
	}
	if !errors.Is(e.m.Remove(ctx, "taken"), errdefs.ErrNotFound) {
		t.Error("pruned network still there")
	}
}

func TestManagerKeepsAttachableAndIPAMOptions(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	if _, err := e.m.Create(ctx, "att", network.CreateOptions{Attachable: true, IPAMOptions: map[string]string{"foo": "bar"}}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		n, err := e.m.Inspect("att")
		if err != nil {
			t.Fatal(err)
		}
		if !n.Attachable || n.IPAM.Options["foo"] != "bar" {
			t.Errorf("%s: Attachable %v, IPAM options %v; want true and foo=bar, as given", when, n.Attachable, n.IPAM.Options)
		}
	}
	check("created")
	if err := e.m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	check("restored")
}

func TestManagerRenameEndpoints(t *testing.T) {
	e := newFakeEnv(t)
	ctx := context.Background()
	if _, err := e.m.Create(ctx, "rn", network.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ep := e.connect(t, "rn", "old", network.EndpointOptions{Aliases: []string{"alias"}})
	if err := e.m.RenameEndpoints(ep.ContainerID, "new"); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		eps := e.m.Endpoints(ep.ContainerID)
		if len(eps) != 1 {
			t.Fatalf("%s: endpoints %+v", when, eps)
		}
		names := eps[0].DNSNames()
		if !slices.Contains(names, "new") || slices.Contains(names, "old") || !slices.Contains(names, "alias") {
			t.Errorf("%s: DNS names %v, want the new name and the alias, not the old name", when, names)
		}
	}
	check("renamed")
	if err := e.m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	check("restored")
}
