package api

import (
	"net/netip"
	"slices"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// legacyNetworkSettings is container inspect's NetworkSettings as API
// versions before 1.52 return it: besides Networks, the top-level fields
// deprecated since 1.21, which describe the endpoint on the default "bridge"
// network (empty for containers not on it). `docker inspect -f
// '{{.NetworkSettings.IPAddress}}'` still reads them.
type legacyNetworkSettings struct {
	Bridge                 string
	SandboxID              string
	SandboxKey             string
	HairpinMode            bool
	LinkLocalIPv6Address   string
	LinkLocalIPv6PrefixLen int
	Ports                  network.PortMap
	SecondaryIPAddresses   []struct {
		Addr      string
		PrefixLen int
	}
	SecondaryIPv6Addresses []struct {
		Addr      string
		PrefixLen int
	}
	EndpointID          string
	Gateway             string
	GlobalIPv6Address   string
	GlobalIPv6PrefixLen int
	IPAddress           string
	IPPrefixLen         int
	IPv6Gateway         string
	MacAddress          string
	Networks            map[string]*network.EndpointSettings
}

// legacyInspect wraps an inspect response so that it encodes with
// legacyNetworkSettings (the outer field shadows the embedded one).
type legacyInspect struct {
	*container.InspectResponse
	NetworkSettings *legacyNetworkSettings
}

// forOldClients returns c as API versions before 1.52 show it.
func forOldClients(c *container.InspectResponse) any {
	ns := c.NetworkSettings
	if ns == nil {
		return c
	}
	l := &legacyNetworkSettings{SandboxID: ns.SandboxID, SandboxKey: ns.SandboxKey, Ports: ns.Ports, Networks: ns.Networks}
	if ep := ns.Networks["bridge"]; ep != nil {
		l.EndpointID = ep.EndpointID
		l.Gateway = addrString(ep.Gateway)
		l.IPAddress = addrString(ep.IPAddress)
		l.IPPrefixLen = ep.IPPrefixLen
		l.IPv6Gateway = addrString(ep.IPv6Gateway)
		l.GlobalIPv6Address = addrString(ep.GlobalIPv6Address)
		l.GlobalIPv6PrefixLen = ep.GlobalIPv6PrefixLen
		l.MacAddress = ep.MacAddress.String()
	}
	return legacyInspect{InspectResponse: c, NetworkSettings: l}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// addOldAliases gives API versions before 1.45 the Aliases docker gave them
// on user-defined networks: the user's aliases, then the short id and the
// hostname, which DNSNames holds since. docker-compose 1.x looks for the
// short id there and reconnects the container when it is missing.
func addOldAliases(c *container.InspectResponse) {
	if c.NetworkSettings == nil {
		return
	}
	extra := []string{c.ID}
	if len(c.ID) > 12 {
		extra[0] = c.ID[:12]
	}
	if c.Config != nil && c.Config.Hostname != "" {
		extra = append(extra, c.Config.Hostname)
	}
	for name, ep := range c.NetworkSettings.Networks {
		switch name {
		case "bridge", "host", "none":
			continue
		}
		for _, a := range extra {
			if ep != nil && !slices.Contains(ep.Aliases, a) {
				ep.Aliases = append(ep.Aliases, a)
			}
		}
	}
}
