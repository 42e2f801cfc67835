package network

import (
	"context"
	"io"
	"net/netip"

	"github.com/berth-project/berth/internal/network/dns"
	"github.com/berth-project/berth/internal/network/portmap"
)

// Driver is the kernel work the Manager needs: bridges, veth pairs, the
// listeners of the embedded DNS inside a namespace, host port
// reservations. The Linux implementation is the bridge driver; tests of the
// Manager's bookkeeping may supply a fake. Every removal is idempotent and
// tolerates objects already gone.
type Driver interface {
	// Init prepares the host (IP forwarding).
	Init(ctx context.Context) error
	// EnsureBridge creates n's bridge, or fixes an existing one: gateway
	// addresses (IPv6 too when n.EnableIPv6, with IPv6 forwarding on), up,
	// marked as owned by tag.
	EnsureBridge(ctx context.Context, n *Network, tag string) error
	// DeleteBridge removes a bridge.
	DeleteBridge(ctx context.Context, name string) error
	// Attach creates ep's veth pair, the host side on n's bridge and the
	// other moved into ep.NetNSPath as ep.IfName (chosen by Attach when
	// empty), configured with ep's address and MAC and, when
	// ep.DefaultRoute, a default route via n's gateway.
	Attach(ctx context.Context, n *Network, ep *Endpoint, tag string) error
	// Detach removes ep's veth pair.
	Detach(ctx context.Context, ep *Endpoint) error
	// Owned lists the links marked with tag: bridges and host-side veths.
	Owned(ctx context.Context, tag string) (bridges, veths []string, err error)
	// LinkExists reports whether a host link exists.
	LinkExists(name string) bool
	// NetNSExists reports whether a network namespace is mounted at path.
	NetNSExists(path string) bool
	// HostRoutes lists the host's routed prefixes, IPv4 and IPv6, so that
	// automatic subnets avoid them.
	HostRoutes(ctx context.Context) ([]netip.Prefix, error)
	// ServeDNS creates the embedded DNS listeners (127.0.0.11:53, udp and
	// tcp) inside the namespace at nsPath and starts srv on them.
	ServeDNS(ctx context.Context, nsPath string, srv *dns.Server) error
	// ReservePort binds b's host port so that nothing else takes it. For an
	// IPv6 tcp binding on [::] or [::1] it also forwards the connections to
	// ::1, which the kernel will not NAT to another interface, to
	// b.ContainerIP.
	ReservePort(b portmap.Binding) (io.Closer, error)
	// EphemeralPorts returns the kernel's ephemeral port range.
	EphemeralPorts() (lo, hi uint16)
}
