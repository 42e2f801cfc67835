package network

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/network/ipam"
)

// Create makes a user-defined bridge network, with docker's checks and
// messages: a duplicate name is ErrConflict, an overlapping subnet
// ErrPermissionDenied, a gateway or range outside the subnet
// ErrInvalidArgument, an unknown driver ErrNotFound. A failure leaves no
// bridge or rule behind.
func (m *Manager) Create(ctx context.Context, name string, opts CreateOptions) (*Network, error) {
	if name == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage("network name is required")
	}
	switch opts.Driver {
	case "", DriverBridge:
	case DriverHost, DriverNull, "none":
		return nil, errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("only one instance of %q network is allowed", opts.Driver))
	default:
		return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("plugin %q not found", opts.Driver))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byName(name) != nil {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("network with name %s already exists", name))
	}
	id := newID()
	bridge := opts.BridgeName
	if bridge == "" {
		bridge = opts.Options[BridgeNameOption]
	}
	if bridge == "" {
		bridge = "br-" + id[:12]
	}
	if len(bridge) > 15 || strings.ContainsAny(bridge, "/ \t\n:") {
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid bridge name %q", bridge))
	}
	for _, n := range m.networks {
		if n.Bridge == bridge {
			return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("bridge name %s is already in use by network %s", bridge, n.Name))
		}
	}
	subnet := opts.Subnet
	if subnet.IsValid() {
		if !subnet.Addr().Is4() {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid subnet %s: only IPv4 subnets are supported", subnet))
		}
		if err := ipam.CheckOverlap(subnet.Masked(), m.subnets()); err != nil {
			return nil, err
		}
	} else {
		if opts.Gateway.IsValid() || opts.IPRange.IsValid() {
			return nil, errdefs.ErrInvalidArgument.WithMessage("invalid network config: a gateway or an ip-range needs a subnet")
		}
		used := m.subnets()
		if routes, err := m.driver.HostRoutes(ctx); err == nil {
			used = append(used, routes...)
		}
		var err error
		if subnet, err = ipam.NextSubnet(m.cfg.AddressPools, used); err != nil {
			return nil, err
		}
	}
	pool, err := ipam.NewPool(subnet, opts.IPRange, opts.Gateway)
	if err != nil {
		return nil, err
	}
	if err := reserveAux(pool, opts.AuxAddresses); err != nil {
		return nil, err
	}
	var pool6 *ipam.Pool
	if opts.EnableIPv6 {
		if pool6, err = m.newPool6(ctx, opts, subnet); err != nil {
			return nil, err
		}
	}
	options := cloneMap(opts.Options)
	if opts.BridgeName != "" {
		if options == nil {
			options = map[string]string{}
		}
		options[BridgeNameOption] = bridge
	}
	n := &Network{
		ID: id, Name: name, Driver: DriverBridge, Bridge: bridge,
		Subnet: pool.Subnet(), IPRange: opts.IPRange, Gateway: pool.Gateway(),
		Internal: opts.Internal, Attachable: opts.Attachable, Labels: cloneMap(opts.Labels), Options: options,
		IPAMOptions: cloneMap(opts.IPAMOptions),
		Created:     time.Now().UTC(), AuxAddresses: maps.Clone(opts.AuxAddresses),
	}
	if n.IPRange.IsValid() {
		n.IPRange = n.IPRange.Masked()
	}
	if pool6 != nil {
		n.EnableIPv6, n.Subnet6, n.Gateway6 = true, pool6.Subnet(), pool6.Gateway()
		if opts.IPRange6.IsValid() {
			n.IPRange6 = opts.IPRange6.Masked()
		}
	}
	if err := m.driver.EnsureBridge(ctx, n, m.cfg.TableName); err != nil {
		_ = m.driver.DeleteBridge(ctx, bridge)
		return nil, err
	}
	m.networks[id] = n
	m.pools[id] = pool
	if pool6 != nil {
		m.pools6[id] = pool6
	}
	undo := func() {
		delete(m.networks, id)
		delete(m.pools, id)
		delete(m.pools6, id)
		_ = m.driver.DeleteBridge(ctx, bridge)
	}
	if err := m.applyFirewall(ctx); err != nil {
		undo()
		_ = m.applyFirewall(ctx)
		return nil, err
	}
	if err := m.save(); err != nil {
		undo()
		_ = m.applyFirewall(ctx)
		return nil, err
	}
	return n.clone(), nil
}

// reserveAux keeps a network's auxiliary addresses from its containers,
// with docker's messages: one outside the subnet is refused (403), one
// taken (the gateway) fails.
func reserveAux(pool *ipam.Pool, aux map[string]netip.Addr) error {
	for _, name := range slices.Sorted(maps.Keys(aux)) {
		addr := aux[name]
		if !pool.Subnet().Contains(addr) {
			return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("auxiliary address: (%s:%s) must belong to the master pool: %s", name, addr, pool.Subnet()))
		}
		if err := pool.Reserve(addr); err != nil {
			return errdefs.ErrUnknown.WithMessage(fmt.Sprintf("failed to allocate secondary ip address (%s:%s): %v", name, addr, err))
		}
	}
	return nil
}

// newPool6 validates or chooses the IPv6 subnet of a new network. m.mu is
// held.
func (m *Manager) newPool6(ctx context.Context, opts CreateOptions, subnet4 netip.Prefix) (*ipam.Pool, error) {
	subnet := opts.Subnet6
	if subnet.IsValid() {
		if !subnet.Addr().Is6() || subnet.Addr().Is4In6() {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid subnet %s: not an IPv6 subnet", subnet))
		}
		if err := ipam.CheckOverlap(subnet.Masked(), m.subnets()); err != nil {
			return nil, err
		}
	} else {
		if opts.Gateway6.IsValid() || opts.IPRange6.IsValid() {
			return nil, errdefs.ErrInvalidArgument.WithMessage("invalid network config: a gateway or an ip-range needs a subnet")
		}
		used := append(m.subnets(), subnet4)
		if routes, err := m.driver.HostRoutes(ctx); err == nil {
			used = append(used, routes...)
		}
		var err error
		if subnet, err = ipam.NextSubnet6(m.cfg.AddressPools, used); err != nil {
			return nil, err
		}
	}
	return ipam.NewPool(subnet, opts.IPRange6, opts.Gateway6)
}

// subnets lists the subnets, IPv4 and IPv6, of the bridge networks. m.mu is
// held.
func (m *Manager) subnets() []netip.Prefix {
	var out []netip.Prefix
	for _, n := range m.networks {
		for _, p := range []netip.Prefix{n.Subnet, n.Subnet6} {
			if p.IsValid() {
				out = append(out, p)
			}
		}
	}
	return out
}

// byName finds a network by exact name. m.mu is held.
func (m *Manager) byName(name string) *Network {
	for _, n := range m.networks {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// lookup finds a network as docker does: full id, then exact name, then
// unique id prefix. m.mu is held.
func (m *Manager) lookup(ref string) (*Network, error) {
	if n, ok := m.networks[ref]; ok {
		return n, nil
	}
	if n := m.byName(ref); n != nil {
		return n, nil
	}
	var found []*Network
	if ref != "" {
		for id, n := range m.networks {
			if strings.HasPrefix(id, ref) {
				found = append(found, n)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, errdefs.ErrNotFound.WithMessage(fmt.Sprintf("network %s not found", ref))
	default:
		return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("network %s is ambiguous (%d matches found based on ID prefix)", ref, len(found)))
	}
}

// Get returns the network with this id, name or unique id prefix.
func (m *Manager) Get(ref string) (*Network, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(ref)
	if err != nil {
		return nil, err
	}
	return n.clone(), nil
}

// List returns every network, sorted by name.
func (m *Manager) List() []*Network {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Network, 0, len(m.networks))
	for _, n := range m.networks {
		out = append(out, n.clone())
	}
	slices.SortFunc(out, func(a, b *Network) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Remove deletes a user-defined network. A predefined one, or one with
// endpoints, is ErrPermissionDenied (docker's 403) with docker's message.
func (m *Manager) Remove(ctx context.Context, ref string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup(ref)
	if err != nil {
		return err
	}
	return m.remove(ctx, n)
}

// remove deletes n. m.mu is held.
func (m *Manager) remove(ctx context.Context, n *Network) error {
	if n.Predefined() {
		return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("%s is a pre-defined network and cannot be removed", n.Name))
	}
	for _, ep := range m.sortedEndpoints() {
		if ep.NetworkID == n.ID {
			return errdefs.ErrPermissionDenied.WithMessage(fmt.Sprintf("error while removing network: network %s has active endpoints (name:%q id:%q)", n.Name, ep.Name, shortID(ep.ContainerID)))
		}
	}
	delete(m.networks, n.ID)
	delete(m.pools, n.ID)
	delete(m.pools6, n.ID)
	saveErr := m.save()
	fwErr := m.applyFirewall(ctx)
	if err := m.driver.DeleteBridge(ctx, n.Bridge); err != nil {
		m.log.Warn("delete bridge", "bridge", n.Bridge, "err", err)
	}
	if saveErr != nil {
		return saveErr
	}
	return fwErr
}

// Prune removes the user-defined networks without endpoints for which
// match returns true (every one when match is nil) and returns their names.
func (m *Manager) Prune(ctx context.Context, match func(*Network) bool) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	used := map[string]bool{}
	for _, ep := range m.endpoints {
		used[ep.NetworkID] = true
	}
	var removed []string
	var candidates []*Network
	for _, n := range m.networks {
		if !n.Predefined() && !used[n.ID] && (match == nil || match(n.clone())) {
			candidates = append(candidates, n)
		}
	}
	slices.SortFunc(candidates, func(a, b *Network) int { return strings.Compare(a.Name, b.Name) })
	for _, n := range candidates {
		if err := m.remove(ctx, n); err != nil {
			return removed, err
		}
		removed = append(removed, n.Name)
	}
	return removed, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
