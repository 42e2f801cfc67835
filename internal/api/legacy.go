package api

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/containerd/errdefs"

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

// createBody is a create request as clients send it, with the
// container-wide MacAddress that API 1.44 deprecated for
// NetworkingConfig.EndpointsConfig[net].MacAddress and the API types no
// longer have (docker-py's mac_address, docker CLIs before 25 send it).
type createBody struct {
	container.CreateRequest
	MacAddress string `json:",omitempty"`
}

// deprecatedMACWarning is docker's create warning for the container-wide
// MacAddress on API 1.44 and later.
const deprecatedMACWarning = "The container-wide MacAddress field is now deprecated. It should be specified in EndpointsConfig instead."

// moveContainerMAC moves a container-wide MAC address to the endpoint of the
// container's main network, with docker's rules (moby's handleMACAddressBC):
// before 1.44 it is the only MAC there is, so endpoint ones are dropped and
// a MAC with a network mode that has no endpoint is refused; from 1.44 on it
// must agree with the endpoint's, and the answer carries a warning.
func moveContainerMAC(old bool, mac string, req *container.CreateRequest) (warning string, err error) {
	if mac == "" {
		if old && req.NetworkingConfig != nil {
			for _, ep := range req.NetworkingConfig.EndpointsConfig {
				if ep != nil {
					ep.MacAddress = nil
				}
			}
		}
		return "", nil
	}
	hw, err := net.ParseMAC(mac)
	if err != nil {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid MAC address %s", mac))
	}
	var mode string
	if req.HostConfig != nil {
		mode = string(req.HostConfig.NetworkMode)
	}
	if mode == "host" || mode == "none" || strings.HasPrefix(mode, "container:") {
		if old {
			return "", errdefs.ErrInvalidArgument.WithMessage("conflicting options: mac-address and the network mode")
		}
		return deprecatedMACWarning, nil
	}
	ep, err := mainEndpoint(old, mode, req)
	if err != nil {
		return "", err
	}
	if len(ep.MacAddress) > 0 && !old && !bytes.Equal(ep.MacAddress, hw) {
		return "", errdefs.ErrInvalidArgument.WithMessage("the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty")
	}
	ep.MacAddress = network.HardwareAddr(hw)
	if old {
		return "", nil
	}
	return deprecatedMACWarning, nil
}

// mainEndpoint finds, or adds, the endpoint settings of the network named
// by NetworkMode ("default" and "" are the default bridge).
func mainEndpoint(old bool, mode string, req *container.CreateRequest) (*network.EndpointSettings, error) {
	if req.NetworkingConfig == nil {
		req.NetworkingConfig = &network.NetworkingConfig{}
	}
	eps := req.NetworkingConfig.EndpointsConfig
	names := []string{mode}
	if mode == "" || mode == "default" || mode == "bridge" {
		names = []string{"bridge", "default"}
	}
	if len(eps) == 0 {
		ep := &network.EndpointSettings{}
		req.NetworkingConfig.EndpointsConfig = map[string]*network.EndpointSettings{names[0]: ep}
		return ep, nil
	}
	for _, name := range names {
		if ep := eps[name]; ep != nil {
			return ep, nil
		}
	}
	if old {
		// before 1.44 there is one endpoint, the main network's, whatever its key
		for _, ep := range eps {
			if ep != nil {
				return ep, nil
			}
		}
	}
	return nil, errors.New("unable to migrate container-wide MAC address to a specific network: HostConfig.NetworkMode must match the identity of a network in NetworkSettings.Networks")
}
