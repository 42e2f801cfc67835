// Package portmap turns a container's requested port publications (docker's
// PortBindings, ExposedPorts and -P) into concrete host bindings, choosing
// free host ports from the ephemeral range and refusing ports that are
// taken. It is pure: the actual reservation of a host port (a real bind) is
// a function the caller supplies.
package portmap

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
)

// Request is one asked-for publication of a container port.
type Request struct {
	Proto         string     // "tcp", "udp" or "sctp"
	ContainerPort uint16     //
	HostIP        netip.Addr // zero: every IPv4 address; "::" every IPv6 address
	HostPortStart uint16     // 0: any free port of the ephemeral range
	HostPortEnd   uint16     // equal to HostPortStart for a single port
	// Twin marks the IPv6 ("::") twin of the IPv4 request just before it,
	// which takes the same host port, as docker publishes on both.
	Twin bool
	// ContainerIP is the container's address of HostIP's family, where the
	// traffic goes (the caller fills it in).
	ContainerIP netip.Addr
}

// Binding is a publication in force: traffic to HostIP:HostPort goes to
// ContainerIP:ContainerPort.
type Binding struct {
	Proto         string     `json:"proto"`
	HostIP        netip.Addr `json:"hostIP,omitzero"` // zero: every IPv4 address; "::" every IPv6 address
	HostPort      uint16     `json:"hostPort"`
	ContainerPort uint16     `json:"containerPort"`
	ContainerIP   netip.Addr `json:"containerIP,omitzero"` // zero in state from before IPv6: the endpoint's IPv4 address
}

// IPv6 reports whether the binding publishes on an IPv6 host address.
func (b Binding) IPv6() bool { return b.HostIP.Is6() }

// HostIPString returns the binding's host address as docker shows it.
func (b Binding) HostIPString() string {
	if !b.HostIP.IsValid() {
		return "0.0.0.0"
	}
	return b.HostIP.String()
}

// String is docker's "0.0.0.0:8080" form.
func (b Binding) String() string {
	return netip.AddrPortFrom(mustAddr(b.HostIPString()), b.HostPort).String()
}

func mustAddr(s string) netip.Addr { a, _ := netip.ParseAddr(s); return a }

// Requests lists the publications asked for by bindings, plus every exposed
// port that has none when publishAll (-P) is set, in a stable order. When
// ipv6 is set (the container has an IPv6 address) a binding without a host
// address publishes on 0.0.0.0 and [::], as docker's does; without it, "::"
// bindings are left out and other IPv6 host addresses are refused. An
// unparsable host port is ErrInvalidArgument.
func Requests(bindings network.PortMap, exposed network.PortSet, publishAll, ipv6 bool) ([]Request, error) {
	var reqs []Request
	both := func(r Request) {
		reqs = append(reqs, r)
		if ipv6 {
			r.HostIP, r.Twin = netip.IPv6Unspecified(), true
			reqs = append(reqs, r)
		}
	}
	for port, list := range bindings {
		if len(list) == 0 {
			list = []network.PortBinding{{}}
		}
		for _, b := range list {
			lo, hi, err := parseHostPorts(b.HostPort)
			if err != nil {
				return nil, err
			}
			r := Request{Proto: string(port.Proto()), ContainerPort: port.Num(), HostPortStart: lo, HostPortEnd: hi}
			switch hostIP := b.HostIP.Unmap(); {
			case !hostIP.IsValid():
				both(r)
			case hostIP.Is4():
				if !hostIP.IsUnspecified() {
					r.HostIP = hostIP
				}
				reqs = append(reqs, r)
			case ipv6:
				r.HostIP = hostIP
				reqs = append(reqs, r)
			case hostIP.IsUnspecified():
				// "::" is the IPv6 twin of 0.0.0.0, meaningless without IPv6
			default:
				return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid host IP %s: the container has no IPv6 address to publish to", b.HostIP))
			}
		}
	}
	if publishAll {
		for port := range exposed {
			if _, ok := bindings[port]; ok {
				continue
			}
			both(Request{Proto: string(port.Proto()), ContainerPort: port.Num()})
		}
	}
	// stable: a twin stays right after its IPv4 request
	slices.SortStableFunc(reqs, func(a, b Request) int {
		if c := strings.Compare(a.Proto, b.Proto); c != 0 {
			return c
		}
		if a.ContainerPort != b.ContainerPort {
			return int(a.ContainerPort) - int(b.ContainerPort)
		}
		return int(a.HostPortStart) - int(b.HostPortStart)
	})
	return reqs, nil
}

// parseHostPorts parses "", "8080" or "8000-8010".
func parseHostPorts(s string) (lo, hi uint16, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	l, err1 := strconv.ParseUint(a, 10, 16)
	h := l
	var err2 error
	if isRange {
		h, err2 = strconv.ParseUint(b, 10, 16)
	}
	if err1 != nil || err2 != nil || h < l {
		return 0, 0, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid port specification: %q", s))
	}
	return uint16(l), uint16(h), nil
}

// Reserver holds b's host port so that nothing else binds it, and returns
// what releases it: a real bind on the host.
type Reserver func(b Binding) (io.Closer, error)

type key struct {
	proto string
	port  uint16
}

type holding struct {
	owner   string
	binding Binding
	closer  io.Closer
}

// Allocator tracks the host ports held by every container.
type Allocator struct {
	lo, hi  uint16
	next    uint16
	reserve Reserver
	held    map[key][]holding
}

// NewAllocator returns an allocator choosing unspecified host ports from
// [lo, hi] (the kernel's ephemeral range, as docker does). reserve may be nil
// in tests: then only the allocator's own bookkeeping detects conflicts.
func NewAllocator(lo, hi uint16, reserve Reserver) *Allocator {
	return &Allocator{lo: lo, hi: hi, next: lo, reserve: reserve, held: map[key][]holding{}}
}

// Allocate turns reqs into bindings held for owner; all or nothing. A port
// another owner holds is ErrConflict with docker's "port is already
// allocated" message; one the host holds, ErrConflict with the bind error.
func (a *Allocator) Allocate(owner string, reqs []Request) (_ []Binding, err error) {
	var got []Binding
	defer func() {
		if err != nil {
			for _, b := range got {
				a.release(owner, b)
			}
		}
	}()
	for _, r := range reqs {
		if r.Twin && len(got) > 0 {
			r.HostPortStart, r.HostPortEnd = got[len(got)-1].HostPort, got[len(got)-1].HostPort
		}
		b, err := a.allocateOne(owner, r)
		if err != nil {
			return nil, err
		}
		got = append(got, b)
	}
	return got, nil
}

func (a *Allocator) allocateOne(owner string, r Request) (Binding, error) {
	b := Binding{Proto: r.Proto, HostIP: r.HostIP, ContainerPort: r.ContainerPort, ContainerIP: r.ContainerIP}
	if r.HostPortStart != 0 && r.HostPortStart == r.HostPortEnd {
		b.HostPort = r.HostPortStart
		return b, a.hold(owner, b)
	}
	lo, hi, start := r.HostPortStart, r.HostPortEnd, r.HostPortStart
	if lo == 0 {
		lo, hi, start = a.lo, a.hi, a.next
	}
	var lastErr error
	p := start
	for range int(hi-lo) + 1 {
		b.HostPort = p
		if p == hi {
			p = lo
		} else {
			p++
		}
		if err := a.hold(owner, b); err != nil {
			lastErr = err
			continue
		}
		if r.HostPortStart == 0 {
			a.next = p
		}
		return b, nil
	}
	if r.HostPortStart != 0 && lastErr != nil {
		return Binding{}, lastErr
	}
	return Binding{}, errdefs.ErrUnavailable.WithMessage(fmt.Sprintf("no free host port in the range %d-%d", lo, hi))
}

// hold records b for owner after checking the bookkeeping and the host.
// Both refusals are dockerd's (20.10, with its userland proxy): a port
// another container holds and one a host process holds are 500s, not
// conflicts, with these messages, which compose clients print as they are.
func (a *Allocator) hold(owner string, b Binding) error {
	k := key{b.Proto, b.HostPort}
	for _, h := range a.held[k] {
		if h.binding.IPv6() != b.IPv6() {
			continue // 0.0.0.0 and [::] are bound apart (IPV6_V6ONLY)
		}
		if h.binding.HostIP.IsUnspecified() || b.HostIP.IsUnspecified() || !h.binding.HostIP.IsValid() || !b.HostIP.IsValid() || h.binding.HostIP == b.HostIP {
			return errdefs.ErrInternal.WithMessage(fmt.Sprintf("Bind for %s failed: port is already allocated", b))
		}
	}
	var c io.Closer
	if a.reserve != nil {
		var err error
		if c, err = a.reserve(b); err != nil {
			return errdefs.ErrInternal.WithMessage("Error starting userland proxy: " + err.Error())
		}
	}
	a.held[k] = append(a.held[k], holding{owner: owner, binding: b, closer: c})
	return nil
}

// Restore holds exactly bs for owner again, after a restart: the bookkeeping
// is rebuilt and the host ports reserved anew. Ports that cannot be held are
// reported but the others stay held.
func (a *Allocator) Restore(owner string, bs []Binding) error {
	var errs []string
	for _, b := range bs {
		if err := a.hold(owner, b); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return errdefs.ErrConflict.WithMessage(strings.Join(errs, "; "))
	}
	return nil
}

// Release frees every port owner holds. Releasing twice does nothing.
func (a *Allocator) Release(owner string) {
	for k, hs := range a.held {
		kept := hs[:0]
		for _, h := range hs {
			if h.owner == owner {
				if h.closer != nil {
					_ = h.closer.Close()
				}
				continue
			}
			kept = append(kept, h)
		}
		if len(kept) == 0 {
			delete(a.held, k)
		} else {
			a.held[k] = kept
		}
	}
}

func (a *Allocator) release(owner string, b Binding) {
	k := key{b.Proto, b.HostPort}
	hs := a.held[k]
	for i, h := range hs {
		if h.owner == owner && h.binding == b {
			if h.closer != nil {
				_ = h.closer.Close()
			}
			a.held[k] = append(hs[:i], hs[i+1:]...)
			break
		}
	}
	if len(a.held[k]) == 0 {
		delete(a.held, k)
	}
}

// PortMap renders bindings and exposed ports as docker's inspect Ports map:
// every exposed port appears, with nil bindings when not published.
func PortMap(bindings []Binding, exposed network.PortSet) network.PortMap {
	m := network.PortMap{}
	for p := range exposed {
		m[p] = nil
	}
	for _, b := range bindings {
		p, ok := network.PortFrom(b.ContainerPort, network.IPProtocol(b.Proto))
		if !ok {
			continue
		}
		hostIP := b.HostIP
		if !hostIP.IsValid() {
			hostIP = netip.IPv4Unspecified()
		}
		m[p] = append(m[p], network.PortBinding{HostIP: hostIP, HostPort: strconv.Itoa(int(b.HostPort))})
	}
	return m
}
