package network

import (
	"maps"
	"net/netip"

	"github.com/moby/moby/api/types/network"
)

// Inspect returns a network in the shape of docker's GET /networks/{id},
// with the endpoints attached to it.
func (m *Manager) Inspect(ref string) (network.Inspect, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup(ref)
	if err != nil {
		return network.Inspect{}, err
	}
	out := network.Inspect{Network: summary(n), Containers: map[string]network.EndpointResource{}}
	for _, ep := range m.endpoints {
		if ep.NetworkID != n.ID {
			continue
		}
		mac := ep.Settings().MacAddress
		res := network.EndpointResource{
			Name:        ep.Name,
			EndpointID:  ep.ID,
			MacAddress:  mac,
			IPv4Address: netip.PrefixFrom(ep.IPAddress, ep.PrefixLen),
		}
		if ep.IPv6Address.IsValid() {
			res.IPv6Address = netip.PrefixFrom(ep.IPv6Address, ep.IPv6PrefixLen)
		}
		out.Containers[ep.ContainerID] = res
	}
	return out, nil
}

// Summaries returns every network in the shape of docker's GET /networks.
func (m *Manager) Summaries() []network.Summary {
	var out []network.Summary
	for _, n := range m.List() {
		out = append(out, network.Summary{Network: summary(n)})
	}
	return out
}

// summary is docker's description of a network, without its endpoints.
func summary(n *Network) network.Network {
	s := network.Network{
		Name:       n.Name,
		ID:         n.ID,
		Created:    n.Created,
		Scope:      "local",
		Driver:     n.Driver,
		EnableIPv4: true,
		EnableIPv6: n.EnableIPv6,
		IPAM:       network.IPAM{Driver: "default", Options: cloneMap(n.IPAMOptions), Config: []network.IPAMConfig{}},
		Internal:   n.Internal,
		Attachable: n.Attachable,
		Options:    cloneMap(n.Options),
		Labels:     cloneMap(n.Labels),
	}
	if n.Subnet.IsValid() {
		s.IPAM.Config = append(s.IPAM.Config, network.IPAMConfig{Subnet: n.Subnet, IPRange: n.IPRange, Gateway: n.Gateway, AuxAddress: maps.Clone(n.AuxAddresses)})
	}
	if n.Subnet6.IsValid() {
		s.IPAM.Config = append(s.IPAM.Config, network.IPAMConfig{Subnet: n.Subnet6, IPRange: n.IPRange6, Gateway: n.Gateway6})
	}
	if s.Options == nil {
		s.Options = map[string]string{}
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	return s
}
