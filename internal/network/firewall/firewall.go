// Package firewall programs the packet filter for berth's bridge networks:
// outbound masquerade, isolation between networks, --internal networks cut
// off, and published ports (DNAT from outside, from the host itself and from
// containers). A Firewall is declarative: Apply replaces everything berth
// owns with the rules a Ruleset describes, so applying the same Ruleset twice
// changes nothing and applying the stored state at start reconciles.
//
// The nftables implementation keeps everything in one table of its own and
// never touches another table; None does nothing, for tests and for hosts
// where the firewall is managed by hand.
package firewall

import (
	"context"
	"net/netip"
)

// Network is one bridge network as the firewall sees it.
type Network struct {
	Bridge   string       // Linux bridge name
	Subnet   netip.Prefix // the network's IPv4 subnet
	Subnet6  netip.Prefix // the network's IPv6 subnet; zero without IPv6
	Internal bool         // no traffic in or out of the bridge except between its members
}

// Port is one published port.
type Port struct {
	Proto         string     // "tcp", "udp" or "sctp"
	HostIP        netip.Addr // zero: every local IPv4 address; "::" every local IPv6 address
	HostPort      uint16     //
	ContainerIP   netip.Addr // of HostIP's family
	ContainerPort uint16     //
}

// Ruleset is the whole desired state.
type Ruleset struct {
	Networks []Network
	Ports    []Port
}

// Firewall applies rulesets.
type Firewall interface {
	// Apply makes the kernel's rules match rs, atomically.
	Apply(ctx context.Context, rs Ruleset) error
	// Delete removes everything the firewall owns. Idempotent.
	Delete(ctx context.Context) error
}

// None is a Firewall that does nothing.
type None struct{}

// Apply does nothing.
func (None) Apply(context.Context, Ruleset) error { return nil }

// Delete does nothing.
func (None) Delete(context.Context) error { return nil }
