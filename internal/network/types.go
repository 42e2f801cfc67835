package network

import (
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/network/firewall"
	"github.com/berth-project/berth/internal/network/ipam"
	"github.com/berth-project/berth/internal/network/portmap"
)

// Names of the predefined networks, as docker names them.
const (
	DefaultNetwork = "bridge"
	HostNetwork    = "host"
	NoneNetwork    = "none"
)

// Driver names, as docker shows them.
const (
	DriverBridge = "bridge"
	DriverHost   = "host"
	DriverNull   = "null"
)

// BridgeNameOption is docker's network option naming the Linux bridge
// (`network create -o com.docker.network.bridge.name=...`).
const BridgeNameOption = "com.docker.network.bridge.name"

// Config configures a Manager.
type Config struct {
	// Root holds the persisted state (<data-root>/network).
	Root string
	// ExecRoot holds runtime files; persistent network namespaces are
	// bind-mounted under ExecRoot/netns. Default /run/berth.
	ExecRoot string
	// DefaultBridge is the Linux bridge of the "bridge" network (--bridge).
	// Default "berth0".
	DefaultBridge string
	// DefaultBIP is the gateway address and subnet of the "bridge" network
	// (--bip). Default 172.17.0.1/16.
	DefaultBIP netip.Prefix
	// DefaultIPv6 gives the "bridge" network IPv6 (--ipv6), with
	// DefaultFixedCIDRv6 as its subnet (--fixed-cidr-v6) or, when that is
	// zero, one from the IPv6 address pools.
	DefaultIPv6        bool
	DefaultFixedCIDRv6 netip.Prefix
	// AddressPools are the pools subnets of new networks are cut from
	// (default-address-pools). Default: docker's IPv4 pools. As docker does,
	// when they hold no IPv6 pool, a unique local /48 chosen once and kept in
	// the state is added for IPv6 networks.
	AddressPools []ipam.PoolSpec
	// TableName is the nftables table berth owns. Default "berth".
	TableName string
	// Firewall overrides the nftables firewall (firewall.None{} for none).
	Firewall firewall.Firewall
	// Driver overrides the kernel driver (tests).
	Driver Driver
	// DNSUpstreams are the servers the embedded DNS forwards other names
	// to. Default: the nameservers of the host's /etc/resolv.conf.
	DNSUpstreams []string
	// PortRange is the range random host ports come from. Default: the
	// kernel's ephemeral range (net.ipv4.ip_local_port_range).
	PortRange [2]uint16
	// MTU of bridges and veths. Default 1500.
	MTU int
	// Logger receives warnings about best-effort work; default slog.Default().
	Logger *slog.Logger
}

// CreateOptions are `network create`'s settings.
type CreateOptions struct {
	Driver     string            // "" or "bridge"
	Subnet     netip.Prefix      // zero: the next free subnet of the address pools
	IPRange    netip.Prefix      // zero: the whole subnet
	Gateway    netip.Addr        // zero: the subnet's first address
	Internal   bool              // no route out, no masquerade, no published ports
	EnableIPv6 bool              // --ipv6: an IPv6 subnet beside the IPv4 one
	Subnet6    netip.Prefix      // with EnableIPv6; zero: the next free /64 of the IPv6 pools
	IPRange6   netip.Prefix      //
	Gateway6   netip.Addr        //
	Labels     map[string]string //
	Options    map[string]string // driver options; BridgeNameOption is honoured
	BridgeName string            // overrides Options[BridgeNameOption]; default br-<id[:12]>
	// Attachable and IPAMOptions (the IPAM driver's options) change
	// nothing on a local bridge; they are kept for inspect, as dockerd does
	// (docker-compose 1.29 compares the IPAM options on every up).
	Attachable  bool
	IPAMOptions map[string]string

	// AuxAddresses (--aux-address name=ip) are addresses of the subnet
	// that the network keeps from its containers.
	AuxAddresses map[string]netip.Addr
}

// SetIPAM takes the subnets, ranges, gateways and (IPv4) auxiliary
// addresses of a create request's IPAM configs: one IPv4 and one IPv6 at
// most (the IPv6 one counts only with EnableIPv6, as in docker).
func (o *CreateOptions) SetIPAM(configs []network.IPAMConfig) error {
	var v4, v6 int
	for _, c := range configs {
		if c.Subnet.Addr().Is6() && !c.Subnet.Addr().Is4In6() {
			v6++
			o.Subnet6, o.IPRange6, o.Gateway6 = c.Subnet, c.IPRange, c.Gateway
			continue
		}
		v4++
		o.Subnet, o.IPRange, o.Gateway, o.AuxAddresses = c.Subnet, c.IPRange, c.Gateway, c.AuxAddress
	}
	if v4 > 1 || v6 > 1 {
		return errdefs.ErrNotImplemented.WithMessage("berth supports one IPv4 and one IPv6 subnet per network")
	}
	return nil
}

// Network is one network. Values returned by the Manager are copies.
type Network struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Driver  string       `json:"driver"`
	Bridge  string       `json:"bridge,omitempty"`
	Subnet  netip.Prefix `json:"subnet,omitzero"`
	IPRange netip.Prefix `json:"ipRange,omitzero"`
	Gateway netip.Addr   `json:"gateway,omitzero"`
	// EnableIPv6 networks have an IPv6 subnet too.
	EnableIPv6 bool              `json:"enableIPv6,omitempty"`
	Subnet6    netip.Prefix      `json:"subnet6,omitzero"`
	IPRange6   netip.Prefix      `json:"ipRange6,omitzero"`
	Gateway6   netip.Addr        `json:"gateway6,omitzero"`
	Internal   bool              `json:"internal,omitempty"`
	Attachable bool              `json:"attachable,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	// IPAMOptions are the create request's IPAM driver options.
	IPAMOptions map[string]string `json:"ipamOptions,omitempty"`
	Options     map[string]string `json:"options,omitempty"`
	Created     time.Time         `json:"created"`

	// AuxAddresses are reserved: no container gets them.
	AuxAddresses map[string]netip.Addr `json:"auxAddresses,omitempty"`
}

// Predefined reports whether n is one of "bridge", "host" and "none", which
// cannot be removed.
func (n *Network) Predefined() bool {
	return n.Name == DefaultNetwork || n.Name == HostNetwork || n.Name == NoneNetwork
}

// EmbeddedDNS reports whether containers on n use the embedded resolver
// (127.0.0.11): user-defined networks do, the default bridge does not.
func (n *Network) EmbeddedDNS() bool { return n.Driver == DriverBridge && n.Name != DefaultNetwork }

func (n *Network) clone() *Network {
	c := *n
	c.Labels = cloneMap(n.Labels)
	c.Options = cloneMap(n.Options)
	c.AuxAddresses = maps.Clone(n.AuxAddresses)
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// EndpointOptions describe a container joining a network.
type EndpointOptions struct {
	ContainerID string // full id
	Name        string // container name, with or without the leading "/"
	Aliases     []string
	IPv4        netip.Addr // --ip; zero: next free address
	IPv6        netip.Addr // --ip6, on IPv6 networks; zero: next free address
	MacAddress  string     // --mac-address; default derived from the address
	NetNSPath   string     // the container's network namespace (NewNetNS)
	// PortBindings, ExposedPorts and PublishAllPorts (-P) are the container's
	// publications; give them on the network that provides the default
	// gateway (the first one) only.
	PortBindings    network.PortMap
	ExposedPorts    network.PortSet
	PublishAllPorts bool
	// DNS servers the embedded resolver forwards to (--dns); default: the
	// manager's upstreams.
	DNS []string
}

// Endpoint is a container's attachment to one network: everything
// container inspect shows under NetworkSettings.Networks[name] and Ports.
type Endpoint struct {
	ID            string            `json:"id"`
	NetworkID     string            `json:"networkID"`
	NetworkName   string            `json:"networkName"`
	ContainerID   string            `json:"containerID"`
	Name          string            `json:"name"` // container name without "/"
	Aliases       []string          `json:"aliases,omitempty"`
	IPAddress     netip.Addr        `json:"ipAddress"`
	PrefixLen     int               `json:"prefixLen"`
	Gateway       netip.Addr        `json:"gateway,omitzero"`
	IPv6Address   netip.Addr        `json:"ipv6Address,omitzero"` // on IPv6 networks
	IPv6PrefixLen int               `json:"ipv6PrefixLen,omitempty"`
	IPv6Gateway   netip.Addr        `json:"ipv6Gateway,omitzero"`
	MacAddress    string            `json:"macAddress"`
	IfName        string            `json:"ifName"`     // inside the container: eth0, eth1...
	HostIfName    string            `json:"hostIfName"` // the host side of the veth pair
	NetNSPath     string            `json:"netnsPath"`
	DefaultRoute  bool              `json:"defaultRoute,omitempty"` // the container's default route goes through this endpoint
	Ports         []portmap.Binding `json:"ports,omitempty"`
	ExposedPorts  network.PortSet   `json:"exposedPorts,omitempty"`
	DNS           []string          `json:"dns,omitempty"`
	EmbeddedDNS   bool              `json:"embeddedDNS,omitempty"`
	ConnectedTime time.Time         `json:"connected"`
}

// DNSNames are the names the embedded DNS answers with the endpoint's
// address: the container name, the aliases and the short id, as docker's
// DNSNames lists them.
func (e *Endpoint) DNSNames() []string {
	var names []string
	if e.Name != "" {
		names = append(names, e.Name)
	}
	for _, a := range e.Aliases {
		if a != "" && !slices.Contains(names, a) {
			names = append(names, a)
		}
	}
	if len(e.ContainerID) >= 12 && !slices.Contains(names, e.ContainerID[:12]) {
		names = append(names, e.ContainerID[:12])
	}
	return names
}

// PortMap is inspect's NetworkSettings.Ports for this endpoint: every
// exposed port, with its host bindings when published.
func (e *Endpoint) PortMap() network.PortMap { return portmap.PortMap(e.Ports, e.ExposedPorts) }

// Settings is inspect's NetworkSettings.Networks[name] entry.
func (e *Endpoint) Settings() *network.EndpointSettings {
	mac, _ := net.ParseMAC(e.MacAddress)
	return &network.EndpointSettings{
		Aliases:     slices.Clone(e.Aliases),
		NetworkID:   e.NetworkID,
		EndpointID:  e.ID,
		Gateway:     e.Gateway,
		IPAddress:   e.IPAddress,
		IPPrefixLen: e.PrefixLen,
		MacAddress:  network.HardwareAddr(mac),
		DNSNames:    e.DNSNames(),

		GlobalIPv6Address:   e.IPv6Address,
		GlobalIPv6PrefixLen: e.IPv6PrefixLen,
		IPv6Gateway:         e.IPv6Gateway,
	}
}

func (e *Endpoint) clone() *Endpoint {
	c := *e
	c.Aliases = slices.Clone(e.Aliases)
	c.Ports = slices.Clone(e.Ports)
	c.DNS = slices.Clone(e.DNS)
	if e.ExposedPorts != nil {
		c.ExposedPorts = network.PortSet{}
		for p := range e.ExposedPorts {
			c.ExposedPorts[p] = struct{}{}
		}
	}
	return &c
}
