package network

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/network/dns"
	"github.com/berth-project/berth/internal/network/portmap"
)

// Connect attaches a container's network namespace to a bridge network: a
// veth pair (host side on the bridge, the other end in the namespace as
// eth0, eth1...), an address from the network's pool (opts.IPv4 when set),
// a default route via the gateway when the namespace has none yet (never
// on --internal networks), the published ports and the embedded DNS
// (user-defined networks). All or nothing: a failure leaves nothing behind.
func (m *Manager) Connect(ctx context.Context, netRef string, opts EndpointOptions) (_ *Endpoint, retErr error) {
	if opts.ContainerID == "" || opts.NetNSPath == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage("network connect: container id and network namespace are required")
	}
	m.mu.Lock()
	n, err := m.lookup(netRef)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	if n.Driver != DriverBridge {
		m.mu.Unlock()
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("network %s: containers join the %s network through their namespace, not an endpoint", n.Name, n.Name))
	}
	name := strings.TrimPrefix(opts.Name, "/")
	key := endpointKey(n.ID, opts.ContainerID)
	if _, ok := m.endpoints[key]; ok {
		m.mu.Unlock()
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("endpoint with name %s already exists in network %s", name, n.Name))
	}
	if (opts.IPv4.IsValid() || opts.IPv6.IsValid()) && !n.EmbeddedDNS() {
		m.mu.Unlock()
		return nil, errdefs.ErrInvalidArgument.WithMessage("user specified IP address is supported on user defined networks only")
	}
	if len(opts.Aliases) > 0 && !n.EmbeddedDNS() {
		m.mu.Unlock()
		return nil, errdefs.ErrInvalidArgument.WithMessage("network-scoped alias is supported only for containers in user defined networks")
	}
	pool, pool6 := m.pools[n.ID], m.pools6[n.ID]
	if opts.IPv6.IsValid() && pool6 == nil {
		m.mu.Unlock()
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid endpoint settings:\nuser specified IPv6 address %s on network %s, which has no IPv6", opts.IPv6, n.Name))
	}
	ip, err := pool.Allocate(opts.IPv4)
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	var ip6 netip.Addr
	if pool6 != nil {
		if ip6, err = pool6.Allocate(opts.IPv6); err != nil {
			pool.Release(ip)
			m.mu.Unlock()
			return nil, err
		}
	}
	release := func() {
		pool.Release(ip)
		if pool6 != nil {
			pool6.Release(ip6)
		}
	}
	ep := &Endpoint{
		ID: newID(), NetworkID: n.ID, NetworkName: n.Name, ContainerID: opts.ContainerID, Name: name,
		Aliases: slices.Clone(opts.Aliases), IPAddress: ip, PrefixLen: n.Subnet.Bits(), Gateway: n.Gateway,
		MacAddress: opts.MacAddress, HostIfName: hostIfName(n.ID, opts.ContainerID), NetNSPath: opts.NetNSPath,
		ExposedPorts: opts.ExposedPorts, DNS: slices.Clone(opts.DNS), EmbeddedDNS: n.EmbeddedDNS(),
		ConnectedTime: time.Now().UTC(),
	}
	if ip6.IsValid() {
		ep.IPv6Address, ep.IPv6PrefixLen, ep.IPv6Gateway = ip6, n.Subnet6.Bits(), n.Gateway6
	}
	if ep.MacAddress == "" {
		a := ip.As4()
		ep.MacAddress = net.HardwareAddr{0x02, 0x42, a[0], a[1], a[2], a[3]}.String()
	} else if _, err := net.ParseMAC(ep.MacAddress); err != nil {
		release()
		m.mu.Unlock()
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid MAC address %s", ep.MacAddress))
	}
	ep.DefaultRoute = !n.Internal && !m.hasDefaultRoute(opts.NetNSPath)
	// reserved: a concurrent Connect of the same container sees the key
	m.endpoints[key] = ep
	m.mu.Unlock()

	defer func() {
		if retErr == nil {
			return
		}
		_ = m.driver.Detach(context.WithoutCancel(ctx), ep)
		m.mu.Lock()
		delete(m.endpoints, key)
		release()
		m.ports.Release(key)
		if len(ep.Ports) > 0 {
			_ = m.applyFirewall(context.WithoutCancel(ctx))
		}
		srv := m.takeDNSLocked(ep.NetNSPath)
		m.mu.Unlock()
		if srv != nil {
			_ = srv.Shutdown(context.WithoutCancel(ctx))
		}
	}()
	if !n.Internal {
		reqs, err := portmap.Requests(opts.PortBindings, opts.ExposedPorts, opts.PublishAllPorts, ip6.IsValid())
		if err != nil {
			return nil, err
		}
		for i := range reqs {
			reqs[i].ContainerIP = ip
			if reqs[i].HostIP.Is6() {
				reqs[i].ContainerIP = ip6
			}
		}
		m.mu.Lock()
		ep.Ports, err = m.ports.Allocate(key, reqs)
		m.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("driver failed programming external connectivity on endpoint %s (%s): %w", name, ep.ID, err)
		}
	}
	// the driver works on a copy: ep is visible to readers holding m.mu
	m.mu.RLock()
	work := ep.clone()
	m.mu.RUnlock()
	if err := m.driver.Attach(ctx, n, work, m.cfg.TableName); err != nil {
		return nil, fmt.Errorf("failed to set up container networking: %w", err)
	}
	if ep.EmbeddedDNS {
		if err := m.startDNS(ctx, ep); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ep.IfName = work.IfName
	if len(ep.Ports) > 0 {
		if err := m.applyFirewall(ctx); err != nil {
			return nil, err
		}
	}
	if err := m.save(); err != nil {
		m.log.Warn("persist network state", "err", err)
	}
	return ep.clone(), nil
}

// hostIfName names the host side of a veth pair after the endpoint, so a
// Disconnect finds it even without the stored state.
func hostIfName(netID, containerID string) string {
	sum := sha256.Sum256([]byte(netID + "/" + containerID))
	return "veth" + hex.EncodeToString(sum[:])[:11]
}

// hasDefaultRoute reports whether an endpoint already gives the namespace
// its default route. m.mu is held.
func (m *Manager) hasDefaultRoute(nsPath string) bool {
	for _, ep := range m.endpoints {
		if ep.NetNSPath == nsPath && ep.DefaultRoute {
			return true
		}
	}
	return false
}

// Disconnect detaches a container from a network: veth, published ports,
// DNS names and address all go. Best effort and idempotent: a container
// that is not connected is not an error (Endpoint tells whether it is); an
// unknown network is ErrNotFound.
func (m *Manager) Disconnect(ctx context.Context, netRef, containerID string) error {
	return m.disconnect(ctx, netRef, containerID, true)
}

// disconnect releases an endpoint; detach also deletes its veth pair, which
// the kernel takes 20ms or more to do. Without it the pair goes when its
// namespace is destroyed, in the background (see ReleaseAll).
func (m *Manager) disconnect(ctx context.Context, netRef, containerID string, detach bool) error {
	m.mu.Lock()
	n, err := m.lookup(netRef)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	key := endpointKey(n.ID, containerID)
	ep, ok := m.endpoints[key]
	if !ok {
		m.mu.Unlock()
		// the state may have been lost: the veth, if any, is still ours
		if n.Driver == DriverBridge {
			return m.driver.Detach(ctx, &Endpoint{HostIfName: hostIfName(n.ID, containerID)})
		}
		return nil
	}
	delete(m.endpoints, key)
	m.ports.Release(key)
	if pool := m.pools[n.ID]; pool != nil {
		pool.Release(ep.IPAddress)
	}
	if pool6 := m.pools6[n.ID]; pool6 != nil && ep.IPv6Address.IsValid() {
		pool6.Release(ep.IPv6Address)
	}
	var errs []error
	if len(ep.Ports) > 0 {
		errs = append(errs, m.applyFirewall(ctx))
	}
	srv := m.takeDNSLocked(ep.NetNSPath)
	errs = append(errs, m.save())
	m.mu.Unlock()
	if srv != nil {
		_ = srv.Shutdown(ctx)
	}
	if detach {
		errs = append(errs, m.driver.Detach(ctx, ep))
	}
	return errors.Join(errs...)
}

// DisconnectAll disconnects a container from every network: on its exit
// and removal, before its namespace is removed.
func (m *Manager) DisconnectAll(ctx context.Context, containerID string) error {
	var errs []error
	for _, ep := range m.Endpoints(containerID) {
		errs = append(errs, m.Disconnect(ctx, ep.NetworkID, containerID))
	}
	return errors.Join(errs...)
}

// ReleaseAll frees a stopped container's endpoints (addresses, ports, DNS
// names, firewall rules) without deleting its veth pairs: the caller removes
// the container's namespace right after, and destroying a namespace deletes
// the veths inside it, with their host peers, in the background, where
// deleting each veth would keep the caller waiting. Only for a namespace no
// process uses any more.
func (m *Manager) ReleaseAll(ctx context.Context, containerID string) error {
	var errs []error
	for _, ep := range m.Endpoints(containerID) {
		errs = append(errs, m.disconnect(ctx, ep.NetworkID, containerID, false))
	}
	return errors.Join(errs...)
}

// RenameEndpoints gives a renamed container's endpoints its new name, so
// that the embedded DNS answers it instead of the old one, as docker's
// rename of a running container does (its aliases stay).
func (m *Manager) RenameEndpoints(containerID, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	renamed := false
	for _, ep := range m.endpoints {
		if ep.ContainerID == containerID && ep.Name != name {
			ep.Name, renamed = name, true
		}
	}
	if !renamed {
		return nil
	}
	return m.save()
}

// Endpoint returns a container's endpoint on a network; ErrNotFound when
// it is not connected.
func (m *Manager) Endpoint(netRef, containerID string) (*Endpoint, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(netRef)
	if err != nil {
		return nil, err
	}
	ep, ok := m.endpoints[endpointKey(n.ID, containerID)]
	if !ok {
		return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("container %s is not connected to network %s", shortID(containerID), n.Name))
	}
	return ep.clone(), nil
}

// Endpoints returns a container's endpoints, in the order they were
// connected (the first gives the default route and the published ports).
func (m *Manager) Endpoints(containerID string) []*Endpoint {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Endpoint
	for _, ep := range m.sortedEndpoints() {
		if ep.ContainerID == containerID {
			out = append(out, ep.clone())
		}
	}
	return out
}

// NetworkEndpoints returns the endpoints on a network (inspect's
// Containers).
func (m *Manager) NetworkEndpoints(netRef string) ([]*Endpoint, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(netRef)
	if err != nil {
		return nil, err
	}
	var out []*Endpoint
	for _, ep := range m.sortedEndpoints() {
		if ep.NetworkID == n.ID {
			out = append(out, ep.clone())
		}
	}
	return out, nil
}

// sortedEndpoints lists endpoints by connection time. m.mu is held.
func (m *Manager) sortedEndpoints() []*Endpoint {
	out := make([]*Endpoint, 0, len(m.endpoints))
	for _, ep := range m.endpoints {
		out = append(out, ep)
	}
	slices.SortFunc(out, func(a, b *Endpoint) int {
		if c := a.ConnectedTime.Compare(b.ConnectedTime); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// startDNS makes sure the namespace of ep has an embedded DNS server.
func (m *Manager) startDNS(ctx context.Context, ep *Endpoint) error {
	m.mu.Lock()
	if _, ok := m.dns[ep.NetNSPath]; ok {
		m.mu.Unlock()
		return nil
	}
	upstreams := ep.DNS
	if len(upstreams) == 0 {
		upstreams = m.cfg.DNSUpstreams
	}
	srv := dns.NewServer(&nsResolver{m: m, nsPath: ep.NetNSPath}, upstreams)
	m.dns[ep.NetNSPath] = srv
	m.mu.Unlock()
	if err := m.driver.ServeDNS(ctx, ep.NetNSPath, srv); err != nil {
		m.mu.Lock()
		if m.dns[ep.NetNSPath] == srv {
			delete(m.dns, ep.NetNSPath)
		}
		m.mu.Unlock()
		return fmt.Errorf("start embedded DNS: %w", err)
	}
	return nil
}

// takeDNSLocked removes and returns the DNS server of a namespace when no
// endpoint there uses it any more; the caller shuts it down without the
// lock (its handlers take the lock). m.mu is held.
func (m *Manager) takeDNSLocked(nsPath string) *dns.Server {
	srv, ok := m.dns[nsPath]
	if !ok {
		return nil
	}
	for _, ep := range m.endpoints {
		if ep.NetNSPath == nsPath && ep.EmbeddedDNS {
			return nil
		}
	}
	delete(m.dns, nsPath)
	return srv
}
