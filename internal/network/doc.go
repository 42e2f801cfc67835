// Package network gives containers their networking, the way dockerd's
// bridge driver does: it owns the networks ("bridge", "host", "none" and
// user-defined bridge networks), their IPAM state, the Linux bridges, the
// veth pairs of the endpoints, berth's nftables table and the embedded DNS
// servers. State is persisted atomically under Config.Root and reconciled
// with the kernel when a Manager starts, so a daemon restart keeps running
// containers' networking intact.
//
// A container's life, as the daemon drives it:
//
//	path, _ := m.NewNetNS(id)                  // before the OCI runtime's create: oci.Options.NetNSPath = path
//	ep, _ := m.Connect(ctx, "bridge", EndpointOptions{ContainerID: id, NetNSPath: path, ...})
//	...                                         // the container runs; ep gives inspect's IPAddress, Gateway, MacAddress, Ports
//	m.DisconnectAll(ctx, id)                    // on exit (before a restart too), on rm
//	RemoveNetNS(path)
//
// Networks may have IPv6 beside IPv4 (EnableIPv6): a second subnet, given or
// cut from a unique local /48 kept in the state, addresses and default
// routes in the containers, NAT66 and isolation in an ip6 table, AAAA
// answers, and ports published on [::] as well as 0.0.0.0.
//
// Subpackages: ipam (addresses and subnets), portmap (host port choice),
// firewall (nftables rules), dns (the embedded resolver), networktest (a
// recording fake Driver and Firewall, so the Manager is tested without
// root). Kernel work lives behind the Driver interface (bridge_linux.go);
// network namespaces are only ever entered on a locked, throw-away OS thread
// (netns_linux.go).
package network
