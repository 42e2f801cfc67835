package network

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/network/dns"
	"github.com/berth-project/berth/internal/network/portmap"
)

// bridgeDriver is the Linux Driver: Linux bridges, veth pairs and sysctls,
// over netlink.
type bridgeDriver struct {
	mtu int
}

// NewBridgeDriver returns the Linux kernel driver.
func NewBridgeDriver(mtu int) Driver {
	if mtu <= 0 {
		mtu = 1500
	}
	return &bridgeDriver{mtu: mtu}
}

// aliasPrefix marks the links berth made (IFLA_IFALIAS), per table name so
// that managers with different tables (tests) leave each other's alone.
func aliasPrefix(tag string) string { return "berth:" + tag + ":" }

func writeSysctl(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", path, value, err)
	}
	return nil
}

// Init enables IPv4 forwarding, which bridge networks need, as dockerd does.
func (d *bridgeDriver) Init(ctx context.Context) error {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err == nil && strings.TrimSpace(string(b)) == "1" {
		return nil
	}
	return writeSysctl("/proc/sys/net/ipv4/ip_forward", "1")
}

// EnsureBridge creates or repairs n's bridge.
func (d *bridgeDriver) EnsureBridge(ctx context.Context, n *Network, tag string) error {
	link, err := netlink.LinkByName(n.Bridge)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if !errors.As(err, &notFound) {
			return fmt.Errorf("look up bridge %s: %w", n.Bridge, err)
		}
		mac := make(net.HardwareAddr, 6)
		_, _ = rand.Read(mac)
		mac[0] = (mac[0] | 0x02) &^ 0x01 // locally administered, unicast: a stable MAC, not the lowest port's
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.Bridge, MTU: d.mtu, HardwareAddr: mac}}
		if err := netlink.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create bridge %s: %w", n.Bridge, err)
		}
		if link, err = netlink.LinkByName(n.Bridge); err != nil {
			return fmt.Errorf("look up bridge %s: %w", n.Bridge, err)
		}
	} else if link.Type() != "bridge" {
		return fmt.Errorf("%s exists and is not a bridge (%s)", n.Bridge, link.Type())
	}
	if link.Attrs().Alias == "" {
		if err := netlink.LinkSetAlias(link, aliasPrefix(tag)+"net:"+n.ID); err != nil {
			return fmt.Errorf("mark bridge %s: %w", n.Bridge, err)
		}
	}
	if err := ensureAddr(link, unix.AF_INET, netip.PrefixFrom(n.Gateway, n.Subnet.Bits())); err != nil {
		return err
	}
	// docker disables IPv6 on the bridges of IPv4-only networks
	disable := "1"
	if n.EnableIPv6 {
		disable = "0"
	}
	if _, err := os.Stat("/proc/sys/net/ipv6"); err == nil || n.EnableIPv6 {
		if err := writeSysctl("/proc/sys/net/ipv6/conf/"+n.Bridge+"/disable_ipv6", disable); err != nil {
			return err
		}
	}
	if n.EnableIPv6 {
		if err := ensureAddr(link, unix.AF_INET6, netip.PrefixFrom(n.Gateway6, n.Subnet6.Bits())); err != nil {
			return err
		}
		if err := enableIPv6Forwarding(); err != nil {
			return err
		}
	}
	// 127.0.0.1 traffic DNATed to a container leaves through the bridge
	// with a loopback source, which the kernel drops as martian unless
	// route_localnet is on for the outgoing interface.
	if err := writeSysctl("/proc/sys/net/ipv4/conf/"+n.Bridge+"/route_localnet", "1"); err != nil {
		return err
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring up %s: %w", n.Bridge, err)
	}
	return nil
}

// ensureAddr makes want the only address of family on link, link-local
// IPv6 addresses aside. IPv6 addresses skip duplicate address detection,
// which would keep them unusable for a second or more.
func ensureAddr(link netlink.Link, family int, want netip.Prefix) error {
	addrs, err := netlink.AddrList(link, family)
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	found := false
	for _, a := range addrs {
		if a.IP.IsLinkLocalUnicast() {
			continue
		}
		ones, _ := a.Mask.Size()
		if ip, ok := netip.AddrFromSlice(a.IP); ok && netip.PrefixFrom(ip.Unmap(), ones) == want {
			found = true
			continue
		}
		// a stale address (the network's subnet changed): drop it
		_ = netlink.AddrDel(link, &a)
	}
	if found {
		return nil
	}
	if err := netlink.AddrAdd(link, newAddr(want)); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("address %s on %s: %w", want, link.Attrs().Name, err)
	}
	return nil
}

// newAddr is the netlink form of an interface address.
func newAddr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if p.Addr().Is6() {
		a.Flags = unix.IFA_F_NODAD
	}
	return a
}

// enableIPv6Forwarding turns IPv6 forwarding on, as dockerd does when a
// network has IPv6.
func enableIPv6Forwarding() error {
	const path = "/proc/sys/net/ipv6/conf/all/forwarding"
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == "1" {
		return nil
	}
	return writeSysctl(path, "1")
}

// DeleteBridge removes a bridge; one already gone is fine.
func (d *bridgeDriver) DeleteBridge(ctx context.Context, name string) error {
	return deleteLink(name)
}

func deleteLink(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if errors.As(err, &notFound) {
			return nil
		}
		return fmt.Errorf("look up %s: %w", name, err)
	}
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// Attach creates and configures ep's veth pair.
func (d *bridgeDriver) Attach(ctx context.Context, n *Network, ep *Endpoint, tag string) (retErr error) {
	br, err := netlink.LinkByName(n.Bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", n.Bridge, err)
	}
	ns, err := netns.GetFromPath(ep.NetNSPath)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", ep.NetNSPath, err)
	}
	defer ns.Close()
	h, err := netlinkIn(ep.NetNSPath)
	if err != nil {
		return err
	}
	defer h.Close()

	if ep.IfName == "" {
		if ep.IfName, err = nextIfName(h); err != nil {
			return err
		}
	}
	// A leftover from a crash between create and record: start afresh.
	_ = deleteLink(ep.HostIfName)
	peerTmp := "vp" + strings.TrimPrefix(ep.HostIfName, "veth")
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: ep.HostIfName, MTU: d.mtu, MasterIndex: br.Attrs().Index},
		PeerName:      peerTmp,
		PeerNamespace: netlink.NsFd(int(ns)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s: %w", ep.HostIfName, err)
	}
	defer func() {
		if retErr != nil {
			_ = deleteLink(ep.HostIfName)
		}
	}()
	host, err := netlink.LinkByName(ep.HostIfName)
	if err != nil {
		return fmt.Errorf("veth %s: %w", ep.HostIfName, err)
	}
	if err := netlink.LinkSetAlias(host, aliasPrefix(tag)+"ep:"+ep.ID); err != nil {
		return fmt.Errorf("mark veth %s: %w", ep.HostIfName, err)
	}
	// hairpin lets a container reach itself through a published port when
	// br_netfilter makes bridged frames go through the DNAT rules
	if err := netlink.LinkSetHairpin(host, true); err != nil {
		return fmt.Errorf("hairpin on %s: %w", ep.HostIfName, err)
	}
	if err := netlink.LinkSetUp(host); err != nil {
		return fmt.Errorf("bring up %s: %w", ep.HostIfName, err)
	}

	peer, err := h.LinkByName(peerTmp)
	if err != nil {
		return fmt.Errorf("veth peer in netns: %w", err)
	}
	if err := h.LinkSetName(peer, ep.IfName); err != nil {
		return fmt.Errorf("rename veth peer to %s: %w", ep.IfName, err)
	}
	mac, err := net.ParseMAC(ep.MacAddress)
	if err != nil {
		return fmt.Errorf("mac address %q: %w", ep.MacAddress, err)
	}
	if err := h.LinkSetHardwareAddr(peer, mac); err != nil {
		return fmt.Errorf("set mac of %s: %w", ep.IfName, err)
	}
	addrs := []netip.Prefix{netip.PrefixFrom(ep.IPAddress, ep.PrefixLen)}
	gateways := []netip.Addr{n.Gateway}
	if err := ipv6Sysctls(ep.NetNSPath, ep.IfName, ep.IPv6Address.IsValid()); err != nil {
		return err
	}
	if ep.IPv6Address.IsValid() {
		addrs = append(addrs, netip.PrefixFrom(ep.IPv6Address, ep.IPv6PrefixLen))
		gateways = append(gateways, ep.IPv6Gateway)
	}
	for _, a := range addrs {
		if err := h.AddrAdd(peer, newAddr(a)); err != nil {
			return fmt.Errorf("address %s on %s: %w", a, ep.IfName, err)
		}
	}
	if err := h.LinkSetUp(peer); err != nil {
		return fmt.Errorf("bring up %s: %w", ep.IfName, err)
	}
	if ep.DefaultRoute {
		for _, gw := range gateways {
			route := &netlink.Route{LinkIndex: peer.Attrs().Index, Gw: gw.AsSlice()}
			if err := h.RouteAdd(route); err != nil && !errors.Is(err, unix.EEXIST) {
				return fmt.Errorf("default route via %s: %w", gw, err)
			}
		}
	}
	return nil
}

// ipv6Sysctls enables IPv6 on the container's interface ifName, and on its
// loopback for ::1, when it gets an IPv6 address, and disables it on the
// interface otherwise, as docker does: a namespace may start with IPv6
// disabled (net.ipv6.conf.default.disable_ipv6 on the host), and an
// IPv4-only network should not hand out link-local IPv6 addresses.
func ipv6Sysctls(nsPath, ifName string, enable bool) error {
	return InNetNS(nsPath, func() error {
		if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
			if enable {
				return fmt.Errorf("IPv6 network: the kernel has no IPv6: %w", err)
			}
			return nil
		}
		if !enable {
			return writeSysctl("/proc/sys/net/ipv6/conf/"+ifName+"/disable_ipv6", "1")
		}
		for _, name := range []string{ifName, "lo"} {
			if err := writeSysctl("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", "0"); err != nil {
				return err
			}
		}
		return nil
	})
}

// nextIfName returns the first free ethN in the namespace.
func nextIfName(h *netlink.Handle) (string, error) {
	links, err := h.LinkList()
	if err != nil {
		return "", fmt.Errorf("list links in netns: %w", err)
	}
	used := map[string]bool{}
	for _, l := range links {
		used[l.Attrs().Name] = true
	}
	for i := 0; ; i++ {
		if n := "eth" + strconv.Itoa(i); !used[n] {
			return n, nil
		}
	}
}

// Detach deletes the host side of ep's veth pair, which takes the peer
// with it.
func (d *bridgeDriver) Detach(ctx context.Context, ep *Endpoint) error {
	return deleteLink(ep.HostIfName)
}

// Owned lists the bridges and veths marked with tag.
func (d *bridgeDriver) Owned(ctx context.Context, tag string) (bridges, veths []string, err error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, nil, fmt.Errorf("list links: %w", err)
	}
	prefix := aliasPrefix(tag)
	for _, l := range links {
		alias := l.Attrs().Alias
		switch {
		case strings.HasPrefix(alias, prefix+"net:"):
			bridges = append(bridges, l.Attrs().Name)
		case strings.HasPrefix(alias, prefix+"ep:"):
			veths = append(veths, l.Attrs().Name)
		}
	}
	return bridges, veths, nil
}

// LinkExists reports whether a host link exists.
func (d *bridgeDriver) LinkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

// NetNSExists reports whether a network namespace is mounted at path.
func (d *bridgeDriver) NetNSExists(path string) bool { return isNetNS(path) }

// HostRoutes lists the host's IPv4 and IPv6 routes, the default routes
// excepted.
func (d *bridgeDriver) HostRoutes(ctx context.Context) ([]netip.Prefix, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var out []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		a, ok := netip.AddrFromSlice(r.Dst.IP)
		if !ok || ones == 0 {
			continue
		}
		if a.Is4In6() {
			a = a.Unmap()
		}
		out = append(out, netip.PrefixFrom(a, ones).Masked())
	}
	return out, nil
}

// ServeDNS opens 127.0.0.11:53 inside the namespace and serves srv there.
func (d *bridgeDriver) ServeDNS(ctx context.Context, nsPath string, srv *dns.Server) error {
	var pc net.PacketConn
	var l net.Listener
	addr := net.JoinHostPort(dns.Address.String(), "53")
	err := InNetNS(nsPath, func() error {
		var err error
		if pc, err = net.ListenPacket("udp4", addr); err != nil {
			return fmt.Errorf("embedded DNS: %w", err)
		}
		if l, err = net.Listen("tcp4", addr); err != nil {
			_ = pc.Close()
			return fmt.Errorf("embedded DNS: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	srv.Serve(pc, l)
	return nil
}

// ReservePort binds b's host address and port (tcp or udp) without
// listening: nothing else can bind it, and no connection is ever accepted on
// it (the DNAT rules take the traffic before local delivery). The socket has
// no SO_REUSEADDR, so even listeners that set it are refused. IPv6 sockets
// are IPv6-only, so that 0.0.0.0 and [::] are held apart.
//
// An IPv6 tcp binding on [::] or [::1] does listen: the kernel drops packets
// from ::1 that NAT would send out of the loopback (IPv6 has no
// route_localnet), so connections to [::1]:port are forwarded to the
// container from here, as docker's userland proxy does.
func (d *bridgeDriver) ReservePort(b portmap.Binding) (io.Closer, error) {
	typ := unix.SOCK_STREAM
	switch b.Proto {
	case "tcp":
	case "udp":
		typ = unix.SOCK_DGRAM
	default:
		return noReservation{}, nil // sctp: bookkeeping only
	}
	family := unix.AF_INET
	var sa unix.Sockaddr
	switch {
	case b.IPv6():
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: int(b.HostPort), Addr: b.HostIP.As16()}
	case b.HostIP.IsValid():
		sa = &unix.SockaddrInet4{Port: int(b.HostPort), Addr: b.HostIP.Unmap().As4()}
	default:
		sa = &unix.SockaddrInet4{Port: int(b.HostPort)}
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	proxy := b.Proto == "tcp" && b.IPv6() && (b.HostIP.IsUnspecified() || b.HostIP.IsLoopback()) && b.ContainerIP.IsValid()
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			_ = unix.Close(fd)
			return nil, fmt.Errorf("socket: IPV6_V6ONLY: %w", err)
		}
	}
	if proxy {
		// the proxy's own closed connections linger in TIME_WAIT on the
		// port; SO_REUSEADDR lets a restarted berthd bind it again, and
		// Linux still refuses it while another socket listens there
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			_ = unix.Close(fd)
			return nil, fmt.Errorf("socket: SO_REUSEADDR: %w", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		_ = unix.Close(fd)
		v := "4"
		if b.IPv6() {
			v = "6"
		}
		return nil, fmt.Errorf("listen %s%s %s: bind: %w", b.Proto, v, b, err)
	}
	f := os.NewFile(uintptr(fd), "port-reservation")
	if !proxy {
		return f, nil
	}
	defer f.Close()
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		return nil, fmt.Errorf("listen tcp6 %s: %w", b, err)
	}
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("listen tcp6 %s: %w", b, err)
	}
	go forward(l, netip.AddrPortFrom(b.ContainerIP, b.ContainerPort))
	return l, nil
}

// forward copies every connection accepted on l to and from to, until l is
// closed.
func forward(l net.Listener, to netip.AddrPort) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.DialTimeout("tcp", to.String(), 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(up, c)
				_ = up.(*net.TCPConn).CloseWrite()
				close(done)
			}()
			_, _ = io.Copy(c, up)
			_ = c.(*net.TCPConn).CloseWrite()
			<-done
		}()
	}
}

// EphemeralPorts reads net.ipv4.ip_local_port_range, falling back to
// docker's 49153-65535.
func (d *bridgeDriver) EphemeralPorts() (lo, hi uint16) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			l, err1 := strconv.ParseUint(f[0], 10, 16)
			h, err2 := strconv.ParseUint(f[1], 10, 16)
			if err1 == nil && err2 == nil && l > 0 && l <= h {
				return uint16(l), uint16(h)
			}
		}
	}
	return 49153, 65535
}

// noReservation is the reservation of a port that is only tracked.
type noReservation struct{}

// Close does nothing.
func (noReservation) Close() error { return nil }
