// Package networktest holds recording fakes of the network package's kernel
// seams — a Driver and a Firewall — so that the Manager's bookkeeping
// (networks, IPAM, endpoints, published ports, restore) is tested without
// root, in this module's tests and in those of its users.
package networktest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/network/dns"
	"github.com/berth-project/berth/internal/network/firewall"
	"github.com/berth-project/berth/internal/network/portmap"
)

// Driver is a network.Driver that keeps bridges, veths, namespaces and port
// reservations as records and logs every call. Its embedded DNS servers
// listen on loopback, one address per namespace (DNSAddr), so that tests
// can query them. It is safe for concurrent use.
type Driver struct {
	// Routes are what HostRoutes returns.
	Routes []netip.Prefix
	// BusyPorts are host ports ReservePort refuses, as if another process
	// held them ("tcp/8080").
	BusyPorts map[string]bool
	// FailAttach, when set, is returned by Attach.
	FailAttach error

	mu       sync.Mutex
	calls    []string
	bridges  map[string]*network.Network  // by bridge name
	veths    map[string]*network.Endpoint // by host interface name
	netns    map[string]bool
	reserved map[string]int // "proto/[ip]:port" -> holders
	dns      map[string]string
}

var _ network.Driver = (*Driver)(nil)

// NewDriver returns an empty fake driver.
func NewDriver() *Driver {
	return &Driver{
		BusyPorts: map[string]bool{},
		bridges:   map[string]*network.Network{},
		veths:     map[string]*network.Endpoint{},
		netns:     map[string]bool{},
		reserved:  map[string]int{},
		dns:       map[string]string{},
	}
}

func (d *Driver) record(format string, args ...any) {
	d.calls = append(d.calls, fmt.Sprintf(format, args...))
}

// Calls returns the calls made so far, as "EnsureBridge br0" lines, and
// forgets them.
func (d *Driver) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.calls
	d.calls = nil
	return c
}

// AddNetNS records a namespace at path, standing for a container's.
func (d *Driver) AddNetNS(path string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.netns[path] = true
}

// RemoveNetNS forgets a namespace, with the veths inside it, as the kernel
// does when a namespace is destroyed.
func (d *Driver) RemoveNetNS(path string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.netns, path)
	for name, ep := range d.veths {
		if ep.NetNSPath == path {
			delete(d.veths, name)
		}
	}
}

// Bridges returns the bridges, by name, with the network each was made for.
func (d *Driver) Bridges() map[string]*network.Network {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]*network.Network{}
	for k, v := range d.bridges {
		c := *v
		out[k] = &c
	}
	return out
}

// Veths returns the host sides of the veth pairs, by name, with the
// endpoint each was made for.
func (d *Driver) Veths() map[string]*network.Endpoint {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]*network.Endpoint{}
	for k, v := range d.veths {
		c := *v
		out[k] = &c
	}
	return out
}

// Reserved lists the host ports held, as "tcp/0.0.0.0:8080" or
// "tcp/[::]:8080", sorted.
func (d *Driver) Reserved() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for k, n := range d.reserved {
		if n > 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// DNSAddr returns the loopback address of the embedded DNS serving the
// namespace at path, "" when none runs.
func (d *Driver) DNSAddr(path string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dns[path]
}

// Init records the call.
func (d *Driver) Init(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("Init")
	return nil
}

// EnsureBridge records n's bridge.
func (d *Driver) EnsureBridge(ctx context.Context, n *network.Network, tag string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("EnsureBridge %s", n.Bridge)
	c := *n
	d.bridges[n.Bridge] = &c
	return nil
}

// DeleteBridge forgets a bridge, or a veth (the Manager removes stale links
// of both kinds through it).
func (d *Driver) DeleteBridge(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("DeleteBridge %s", name)
	delete(d.bridges, name)
	delete(d.veths, name)
	return nil
}

// Attach records ep's veth pair, naming the container side ethN.
func (d *Driver) Attach(ctx context.Context, n *network.Network, ep *network.Endpoint, tag string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("Attach %s %s", n.Bridge, ep.HostIfName)
	if d.FailAttach != nil {
		return d.FailAttach
	}
	if _, ok := d.bridges[n.Bridge]; !ok {
		return fmt.Errorf("bridge %s: %w", n.Bridge, errdefs.ErrNotFound)
	}
	if !d.netns[ep.NetNSPath] {
		return fmt.Errorf("netns %s: %w", ep.NetNSPath, errdefs.ErrNotFound)
	}
	if ep.IfName == "" {
		used := map[string]bool{}
		for _, v := range d.veths {
			if v.NetNSPath == ep.NetNSPath {
				used[v.IfName] = true
			}
		}
		for i := 0; ; i++ {
			if name := "eth" + strconv.Itoa(i); !used[name] {
				ep.IfName = name
				break
			}
		}
	}
	c := *ep
	d.veths[ep.HostIfName] = &c
	return nil
}

// Detach forgets ep's veth pair.
func (d *Driver) Detach(ctx context.Context, ep *network.Endpoint) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("Detach %s", ep.HostIfName)
	delete(d.veths, ep.HostIfName)
	return nil
}

// Owned lists every bridge and veth: the fake holds only the links tag's
// manager made.
func (d *Driver) Owned(ctx context.Context, tag string) (bridges, veths []string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for name := range d.bridges {
		bridges = append(bridges, name)
	}
	for name := range d.veths {
		veths = append(veths, name)
	}
	slices.Sort(bridges)
	slices.Sort(veths)
	return bridges, veths, nil
}

// LinkExists reports whether a bridge or veth is recorded under name.
func (d *Driver) LinkExists(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, br := d.bridges[name]
	_, veth := d.veths[name]
	return br || veth
}

// NetNSExists reports whether AddNetNS recorded path.
func (d *Driver) NetNSExists(path string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.netns[path]
}

// HostRoutes returns d.Routes.
func (d *Driver) HostRoutes(ctx context.Context) ([]netip.Prefix, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.Routes), nil
}

// ServeDNS serves srv on a fresh loopback address (udp and tcp).
func (d *Driver) ServeDNS(ctx context.Context, nsPath string, srv *dns.Server) error {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp4", pc.LocalAddr().String())
	if err != nil {
		_ = pc.Close()
		return err
	}
	srv.Serve(pc, l)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.record("ServeDNS %s", nsPath)
	d.dns[nsPath] = pc.LocalAddr().String()
	return nil
}

// ReservePort records b's host port unless it is in BusyPorts.
func (d *Driver) ReservePort(b portmap.Binding) (io.Closer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.BusyPorts[b.Proto+"/"+strconv.Itoa(int(b.HostPort))] {
		return nil, fmt.Errorf("listen %s %s: bind: address already in use", b.Proto, b)
	}
	key := b.Proto + "/" + b.String()
	d.reserved[key]++
	return closer(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.reserved[key]--
	}), nil
}

type closer func()

func (c closer) Close() error { c(); return nil }

// EphemeralPorts returns 40000-40099.
func (d *Driver) EphemeralPorts() (lo, hi uint16) { return 40000, 40099 }

// Firewall is a firewall.Firewall that keeps the last Ruleset applied.
type Firewall struct {
	mu      sync.Mutex
	applied *firewall.Ruleset
}

var _ firewall.Firewall = (*Firewall)(nil)

// Apply records rs.
func (f *Firewall) Apply(ctx context.Context, rs firewall.Ruleset) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := firewall.Ruleset{Networks: slices.Clone(rs.Networks), Ports: slices.Clone(rs.Ports)}
	f.applied = &c
	return nil
}

// Delete forgets the ruleset.
func (f *Firewall) Delete(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = nil
	return nil
}

// Ruleset returns the last ruleset applied; nil when none is (or after
// Delete).
func (f *Firewall) Ruleset() *firewall.Ruleset {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applied == nil {
		return nil
	}
	c := *f.applied
	return &c
}
