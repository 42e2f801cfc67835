// Package ipam manages IPv4 and IPv6 address pools: the addresses of one network's
// subnet (Pool) and the choice of non-overlapping subnets for new networks
// (Space). It is pure: no kernel, no disk; the caller persists what it hands
// out and replays it with Reserve after a restart.
package ipam

import (
	"fmt"
	"net/netip"

	"github.com/containerd/errdefs"
)

// Pool hands out the addresses of one subnet, IPv4 or IPv6. The network
// address (IPv6's subnet-router anycast), the IPv4 broadcast address and the
// gateway are never handed out. Allocation is
// sequential after the last address handed out, wrapping at the end of the
// range, as docker's allocator does, so a released address is not reused at
// once.
type Pool struct {
	subnet  netip.Prefix
	ipRange netip.Prefix
	gateway netip.Addr
	used    map[netip.Addr]bool
	last    netip.Addr
}

// NewPool validates a subnet, an optional allocation range within it and an
// optional gateway (the first host address when zero) and returns an empty
// pool. Errors carry docker's messages and are ErrInvalidArgument.
func NewPool(subnet, ipRange netip.Prefix, gateway netip.Addr) (*Pool, error) {
	if !subnet.IsValid() || subnet.Addr().Is4In6() {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid subnet %s", subnet))
	}
	if subnet.Addr().BitLen()-subnet.Bits() < 2 {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid subnet %s: too small, it must hold at least 2 host addresses", subnet))
	}
	// docker accepts 10.1.2.3/24 and means 10.1.2.0/24
	subnet = subnet.Masked()
	if ipRange.IsValid() {
		ipRange = ipRange.Masked()
		if ipRange.Addr().Is4() != subnet.Addr().Is4() || ipRange.Bits() < subnet.Bits() || !subnet.Contains(ipRange.Addr()) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("no matching subnet for range %s", ipRange))
		}
	} else {
		ipRange = subnet
	}
	if gateway.IsValid() {
		if !subnet.Contains(gateway) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("no matching subnet for gateway %s", gateway))
		}
	} else {
		gateway = subnet.Addr().Next()
	}
	p := &Pool{subnet: subnet, ipRange: ipRange, gateway: gateway, used: map[netip.Addr]bool{}}
	p.used[gateway] = true
	return p, nil
}

// Subnet returns the pool's subnet.
func (p *Pool) Subnet() netip.Prefix { return p.subnet }

// Range returns the range addresses are allocated from (the subnet when no
// range was given).
func (p *Pool) Range() netip.Prefix { return p.ipRange }

// Gateway returns the gateway address.
func (p *Pool) Gateway() netip.Addr { return p.gateway }

// InUse returns the number of addresses handed out, the gateway included.
func (p *Pool) InUse() int { return len(p.used) }

// Allocate hands out preferred when it is valid, or else the next free
// address of the range. A preferred address outside the subnet is
// ErrInvalidArgument, one in use ErrConflict, an exhausted range
// ErrUnavailable.
func (p *Pool) Allocate(preferred netip.Addr) (netip.Addr, error) {
	if preferred.IsValid() {
		if err := p.Reserve(preferred); err != nil {
			return netip.Addr{}, err
		}
		return preferred, nil
	}
	lo, hi := bounds(p.ipRange)
	next := lo
	if p.last.IsValid() && p.ipRange.Contains(p.last) && p.last != hi {
		next = p.last.Next()
	}
	// the scan meets at most every used address before a free one, so an
	// IPv6 /64 is never walked through
	steps := size(p.ipRange)
	if limit := uint64(len(p.used)) + 3; limit < steps {
		steps = limit
	}
	for range steps {
		a := next
		if next == hi {
			next = lo
		} else {
			next = next.Next()
		}
		if p.usable(a) && !p.used[a] {
			p.used[a] = true
			p.last = a
			return a, nil
		}
	}
	family := "IPv4"
	if p.subnet.Addr().Is6() {
		family = "IPv6"
	}
	return netip.Addr{}, errdefs.ErrUnavailable.WithMessage(fmt.Sprintf("no available %s addresses on this network's address pools: %s", family, p.subnet))
}

// usable reports whether a may be handed out at all: not the subnet's first
// address nor, in IPv4, its broadcast address.
func (p *Pool) usable(a netip.Addr) bool {
	first, last := bounds(p.subnet)
	return a != first && (a.Is6() || a != last)
}

// Reserve marks addr as handed out: for a requested --ip, and to replay
// stored allocations after a restart.
func (p *Pool) Reserve(addr netip.Addr) error {
	if !p.subnet.Contains(addr) || !p.usable(addr) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid endpoint settings:\nno configured subnet or ip-range contain the IP address %s", addr))
	}
	if p.used[addr] {
		return errdefs.ErrConflict.WithMessage("Address already in use")
	}
	p.used[addr] = true
	return nil
}

// Release returns addr to the pool; releasing a free address or the gateway
// does nothing.
func (p *Pool) Release(addr netip.Addr) {
	if addr != p.gateway {
		delete(p.used, addr)
	}
}

// bounds returns the first and last address of a prefix.
func bounds(p netip.Prefix) (first, last netip.Addr) {
	p = p.Masked()
	first = p.Addr()
	b := first.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	last, _ = netip.AddrFromSlice(b)
	return first, last
}

// size is the number of addresses in p, capped at 1<<63.
func size(p netip.Prefix) uint64 {
	host := p.Addr().BitLen() - p.Bits()
	if host >= 63 {
		return 1 << 63
	}
	return 1 << host
}
