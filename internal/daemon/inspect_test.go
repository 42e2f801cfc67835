package daemon

import (
	"encoding/json"
	"net"
	"net/netip"
	"testing"
	"time"

	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/network"
)

func TestEndpointSettings(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	mac, _ := net.ParseMAC("02:42:ac:11:00:09")
	req := &networktypes.EndpointSettings{
		IPAMConfig: &networktypes.EndpointIPAMConfig{IPv4Address: netip.MustParseAddr("10.9.0.9")},
		Aliases:    []string{"api"},
		Links:      []string{"db:db"},
		DriverOpts: map[string]string{"k": "v"},
		MacAddress: networktypes.HardwareAddr(mac),
	}
	user := &network.Network{ID: "netid", Name: "dev", Driver: network.DriverBridge}
	bridge := &network.Network{ID: "bridgeid", Name: network.DefaultNetwork, Driver: network.DriverBridge}
	ep := &network.Endpoint{
		ID: "epid", NetworkID: "netid", ContainerID: id, Name: "web", Aliases: []string{"api"},
		IPAddress: netip.MustParseAddr("10.9.0.9"), PrefixLen: 24, Gateway: netip.MustParseAddr("10.9.0.1"),
		MacAddress: "02:42:ac:11:00:09", EmbeddedDNS: true,
	}
	created := &container.Container{ID: id, Name: "/web"}
	stopped := &container.Container{ID: id, Name: "/web"}
	stopped.State.StartedAt = time.Now()

	asked := `"IPAMConfig":{"IPv4Address":"10.9.0.9"},"Links":["db:db"],"Aliases":["api"],"DriverOpts":{"k":"v"},"GwPriority":0,`
	for _, tc := range []struct {
		name string
		req  *networktypes.EndpointSettings
		n    *network.Network
		ep   *network.Endpoint
		c    *container.Container
		want string
	}{{
		name: "created, nothing asked",
		c:    created,
		want: `{"IPAMConfig":null,"Links":null,"Aliases":null,"DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","MacAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}`,
	}, {
		name: "created: what was asked, no addresses",
		req:  req, n: user, c: created,
		want: `{` + asked + `"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","MacAddress":"02:42:ac:11:00:09","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}`,
	}, {
		name: "connected",
		req:  req, n: user, ep: ep, c: stopped,
		want: `{` + asked + `"NetworkID":"netid","EndpointID":"epid","Gateway":"10.9.0.1","IPAddress":"10.9.0.9","MacAddress":"02:42:ac:11:00:09","IPPrefixLen":24,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":["web","api","0123456789ab"]}`,
	}, {
		name: "stopped: the network and names stay, the addresses go",
		req:  req, n: user, c: stopped,
		want: `{` + asked + `"NetworkID":"netid","EndpointID":"","Gateway":"","IPAddress":"","MacAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":["web","api","0123456789ab"]}`,
	}, {
		name: "stopped on the default bridge: no DNS names",
		n:    bridge, c: stopped,
		want: `{"IPAMConfig":null,"Links":null,"Aliases":null,"DriverOpts":null,"GwPriority":0,"NetworkID":"bridgeid","EndpointID":"","Gateway":"","IPAddress":"","MacAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(endpointSettings(tc.req, tc.n, tc.ep, tc.c))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("endpointSettings:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	if req.NetworkID != "" || len(req.Aliases) != 1 {
		t.Errorf("endpointSettings changed the stored request: %+v", req)
	}
}
