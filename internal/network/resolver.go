package network

import (
	"net/netip"
	"strings"
)

// nsResolver answers the embedded DNS of one network namespace: the names
// of the containers on the user-defined networks that namespace is
// connected to, as docker scopes them.
type nsResolver struct {
	m      *Manager
	nsPath string
}

// networks returns the ids of the user-defined networks the namespace is
// on. m.mu is held (read).
func (r *nsResolver) networks() map[string]bool {
	ids := map[string]bool{}
	for _, ep := range r.m.endpoints {
		if ep.NetNSPath == r.nsPath && ep.EmbeddedDNS {
			ids[ep.NetworkID] = true
		}
	}
	return ids
}

// LookupIP returns the addresses of name on the namespace's networks: every
// endpoint whose container name, alias or short id matches.
func (r *nsResolver) LookupIP(name string) ([]netip.Addr, bool) {
	r.m.mu.RLock()
	defer r.m.mu.RUnlock()
	nets := r.networks()
	var addrs []netip.Addr
	for _, ep := range r.m.sortedEndpoints() {
		if !nets[ep.NetworkID] {
			continue
		}
		for _, n := range ep.DNSNames() {
			if strings.EqualFold(n, name) {
				addrs = append(addrs, ep.IPAddress)
				if ep.IPv6Address.IsValid() {
					addrs = append(addrs, ep.IPv6Address)
				}
				break
			}
		}
	}
	return addrs, len(addrs) > 0
}

// LookupPTR returns "<container>.<network>" for an address on the
// namespace's networks.
func (r *nsResolver) LookupPTR(addr netip.Addr) []string {
	r.m.mu.RLock()
	defer r.m.mu.RUnlock()
	nets := r.networks()
	for _, ep := range r.m.endpoints {
		if nets[ep.NetworkID] && (ep.IPAddress == addr || ep.IPv6Address == addr) && ep.Name != "" {
			return []string{ep.Name + "." + ep.NetworkName}
		}
	}
	return nil
}
