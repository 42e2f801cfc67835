package daemon

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"
)

func TestParseLink(t *testing.T) {
	for _, tc := range []struct{ in, name, alias string }{
		{"web:db", "web", "db"},
		{"web", "web", "web"},
		{"/web:/self/db", "web", "db"},
		{"/web", "web", "web"},
	} {
		name, alias := parseLink(tc.in)
		if name != tc.name || alias != tc.alias {
			t.Errorf("parseLink(%q) = %q, %q; want %q, %q", tc.in, name, alias, tc.name, tc.alias)
		}
	}
}

func ports(specs ...string) networktypes.PortSet {
	set := networktypes.PortSet{}
	for _, s := range specs {
		set[networktypes.MustParsePort(s)] = struct{}{}
	}
	return set
}

func TestLinkEnv(t *testing.T) {
	ip := netip.MustParseAddr("172.17.0.5")
	for _, tc := range []struct {
		name string
		link linkedContainer
		want []string
	}{{
		name: "no ports, env without HOME and PATH",
		link: linkedContainer{name: "/app/my-db", ip: ip, env: []string{"PATH=/bin", "HOME=/root", "USER=pg", "EMPTY=", "NOVALUE"}},
		want: []string{"MY_DB_NAME=/app/my-db", "MY_DB_ENV_USER=pg", "MY_DB_ENV_EMPTY="},
	}, {
		name: "one port",
		link: linkedContainer{name: "/app/web", ip: ip, ports: ports("80/tcp")},
		want: []string{
			"WEB_PORT=tcp://172.17.0.5:80",
			"WEB_PORT_80_TCP=tcp://172.17.0.5:80", "WEB_PORT_80_TCP_ADDR=172.17.0.5", "WEB_PORT_80_TCP_PORT=80", "WEB_PORT_80_TCP_PROTO=tcp",
			"WEB_NAME=/app/web",
		},
	}, {
		name: "tcp before udp, lowest first, a range of consecutive ports",
		link: linkedContainer{name: "/app/web", ip: ip, ports: ports("53/udp", "8081/tcp", "8080/tcp", "443/tcp")},
		want: []string{
			"WEB_PORT=tcp://172.17.0.5:443",
			"WEB_PORT_443_TCP=tcp://172.17.0.5:443", "WEB_PORT_443_TCP_ADDR=172.17.0.5", "WEB_PORT_443_TCP_PORT=443", "WEB_PORT_443_TCP_PROTO=tcp",
			"WEB_PORT_8080_TCP=tcp://172.17.0.5:8080", "WEB_PORT_8080_TCP_ADDR=172.17.0.5", "WEB_PORT_8080_TCP_PORT=8080", "WEB_PORT_8080_TCP_PROTO=tcp",
			"WEB_PORT_8081_TCP=tcp://172.17.0.5:8081", "WEB_PORT_8081_TCP_ADDR=172.17.0.5", "WEB_PORT_8081_TCP_PORT=8081", "WEB_PORT_8081_TCP_PROTO=tcp",
			// as docker does: a range is announced once the port after it is
			"WEB_PORT_53_UDP=udp://172.17.0.5:53", "WEB_PORT_53_UDP_ADDR=172.17.0.5", "WEB_PORT_53_UDP_PORT=53", "WEB_PORT_53_UDP_PROTO=udp",
			"WEB_PORT_8080_TCP_START=tcp://172.17.0.5:8080", "WEB_PORT_8080_TCP_PORT_START=8080",
			"WEB_PORT_8080_TCP_END=tcp://172.17.0.5:8081", "WEB_PORT_8080_TCP_PORT_END=8081",
			"WEB_NAME=/app/web",
		},
	}, {
		name: "a range that ends the list",
		link: linkedContainer{name: "/a/b", ip: ip, ports: ports("7001/udp", "7000/udp")},
		want: []string{
			"B_PORT=udp://172.17.0.5:7000",
			"B_PORT_7000_UDP=udp://172.17.0.5:7000", "B_PORT_7000_UDP_ADDR=172.17.0.5", "B_PORT_7000_UDP_PORT=7000", "B_PORT_7000_UDP_PROTO=udp",
			"B_PORT_7001_UDP=udp://172.17.0.5:7001", "B_PORT_7001_UDP_ADDR=172.17.0.5", "B_PORT_7001_UDP_PORT=7001", "B_PORT_7001_UDP_PROTO=udp",
			"B_PORT_7000_UDP_START=udp://172.17.0.5:7000", "B_PORT_7000_UDP_PORT_START=7000",
			"B_PORT_7000_UDP_END=udp://172.17.0.5:7001", "B_PORT_7000_UDP_PORT_END=7001",
			"B_NAME=/a/b",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if got := linkEnv([]linkedContainer{tc.link}); !slices.Equal(got, tc.want) {
				t.Errorf("linkEnv:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
		})
	}
	if got := linkEnv(nil); got != nil {
		t.Errorf("linkEnv(nil) = %q, want nil", got)
	}
	two := linkEnv([]linkedContainer{{name: "/s/a", ip: ip}, {name: "/s/b", ip: ip}})
	if !slices.Equal(two, []string{"A_NAME=/s/a", "B_NAME=/s/b"}) {
		t.Errorf("two links: %q", two)
	}
}

func TestLegacyLinks(t *testing.T) {
	links := []string{"web:db"}
	for mode, want := range map[string][]string{
		"":               links,
		"default":        links,
		"bridge":         links,
		"none":           links,
		"container:abc":  links,
		"dev":            nil, // a user-defined network: an endpoint option, not a link
		"3f2e5c7a9b1d00": nil,
	} {
		hc := &containertypes.HostConfig{NetworkMode: containertypes.NetworkMode(mode), Links: links}
		if got := legacyLinks(hc); !slices.Equal(got, want) {
			t.Errorf("legacyLinks with --network %q = %q, want %q", mode, got, want)
		}
	}
}
