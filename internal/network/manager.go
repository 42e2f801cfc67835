package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/etcfiles"
	"github.com/berth-project/berth/internal/network/dns"
	"github.com/berth-project/berth/internal/network/firewall"
	"github.com/berth-project/berth/internal/network/ipam"
	"github.com/berth-project/berth/internal/network/portmap"
	"github.com/berth-project/berth/internal/quarantine"
)

// Manager owns berth's networks and endpoints. It is safe for concurrent use.
type Manager struct {
	cfg    Config
	log    *slog.Logger
	driver Driver
	fw     firewall.Firewall
	ports  *portmap.Allocator

	mu        sync.RWMutex
	ula       netip.Prefix           // see state.ULA
	networks  map[string]*Network    // by id
	pools     map[string]*ipam.Pool  // by network id
	pools6    map[string]*ipam.Pool  // by network id, IPv6 networks
	endpoints map[string]*Endpoint   // by endpointKey
	dns       map[string]*dns.Server // by netns path
}

func endpointKey(netID, containerID string) string { return netID + "/" + containerID }

// New opens the state under cfg.Root, creates the predefined networks
// ("bridge" on cfg.DefaultBridge with cfg.DefaultBIP, "host", "none") and
// reconciles the kernel with the stored state: missing bridges and the
// firewall table are re-created, endpoints whose namespace is gone are
// released, links berth made that the state no longer knows are removed,
// and the embedded DNS servers of running containers are started again.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Root == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage("network: Config.Root is required")
	}
	if cfg.ExecRoot == "" {
		cfg.ExecRoot = "/run/berth"
	}
	if cfg.DefaultBridge == "" {
		cfg.DefaultBridge = "berth0"
	}
	if !cfg.DefaultBIP.IsValid() {
		cfg.DefaultBIP = netip.MustParsePrefix("172.17.0.1/16")
	}
	if cfg.TableName == "" {
		cfg.TableName = "berth"
	}
	if cfg.AddressPools == nil {
		cfg.AddressPools = ipam.DefaultPools()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Driver == nil {
		cfg.Driver = NewBridgeDriver(cfg.MTU)
		if cfg.Driver == nil {
			return nil, errdefs.ErrNotImplemented.WithMessage("bridge networking is only available on Linux")
		}
	}
	if cfg.Firewall == nil {
		fw, err := firewall.NewNFTables(cfg.TableName)
		if err != nil {
			return nil, err
		}
		cfg.Firewall = fw
	}
	if cfg.DNSUpstreams == nil {
		if host, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			cfg.DNSUpstreams = etcfiles.ParseResolvConf(host).Upstreams()
		}
	}
	lo, hi := cfg.PortRange[0], cfg.PortRange[1]
	if lo == 0 || hi < lo {
		lo, hi = cfg.Driver.EphemeralPorts()
	}
	m := &Manager{
		cfg:       cfg,
		log:       cfg.Logger,
		driver:    cfg.Driver,
		fw:        cfg.Firewall,
		ports:     portmap.NewAllocator(lo, hi, cfg.Driver.ReservePort),
		networks:  map[string]*Network{},
		pools:     map[string]*ipam.Pool{},
		pools6:    map[string]*ipam.Pool{},
		endpoints: map[string]*Endpoint{},
		dns:       map[string]*dns.Server{},
	}
	if err := m.driver.Init(ctx); err != nil {
		return nil, err
	}
	st, err := loadState(cfg.Root)
	if errors.Is(err, errdefs.ErrDataLoss) {
		// truncated or garbled: set it aside and start with the default
		// networks only, rather than serve no network at all
		dest, qerr := quarantine.Move(cfg.Root, filepath.Join(cfg.Root, stateFile), time.Now())
		m.log.Error("unreadable network state quarantined; user-defined networks are forgotten", "err", err, "moved-to", dest, "move-err", qerr)
		if qerr != nil {
			return nil, err
		}
		st = &state{}
	} else if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(cfg.AddressPools, func(p ipam.PoolSpec) bool { return p.Base.Addr().Is6() }) {
		m.ula = st.ULA
		if !m.ula.IsValid() {
			m.ula = ipam.RandomULA().Base
		}
		m.cfg.AddressPools = append(slices.Clone(cfg.AddressPools), ipam.PoolSpec{Base: m.ula, Size: 64})
	}
	m.mu.Lock()
	err = m.restore(ctx, st)
	var withDNS []*Endpoint
	for _, ep := range m.endpoints {
		if ep.EmbeddedDNS {
			withDNS = append(withDNS, ep)
		}
	}
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// the namespaces of running containers outlived the previous berthd,
	// its DNS listeners did not
	for _, ep := range withDNS {
		if err := m.startDNS(ctx, ep); err != nil {
			m.log.Warn("restart embedded DNS", "container", ep.ContainerID, "err", err)
		}
	}
	return m, nil
}

// restore rebuilds the manager from st and reconciles the kernel. m.mu is held.
func (m *Manager) restore(ctx context.Context, st *state) error {
	for _, n := range st.Networks {
		if n.Driver != DriverBridge {
			m.networks[n.ID] = n
			continue
		}
		pool, err := ipam.NewPool(n.Subnet, n.IPRange, n.Gateway)
		if err != nil {
			m.log.Warn("dropping stored network with a bad subnet", "network", n.Name, "err", err)
			continue
		}
		if err := reserveAux(pool, n.AuxAddresses); err != nil {
			m.log.Warn("restore auxiliary addresses", "network", n.Name, "err", err)
		}
		var pool6 *ipam.Pool
		if n.EnableIPv6 {
			if pool6, err = ipam.NewPool(n.Subnet6, n.IPRange6, n.Gateway6); err != nil {
				m.log.Warn("dropping stored network with a bad IPv6 subnet", "network", n.Name, "err", err)
				continue
			}
			m.pools6[n.ID] = pool6
		}
		m.networks[n.ID] = n
		m.pools[n.ID] = pool
	}
	if err := m.ensureDefaultNetworks(); err != nil {
		return err
	}
	for _, n := range m.networks {
		if n.Driver != DriverBridge {
			continue
		}
		if err := m.driver.EnsureBridge(ctx, n, m.cfg.TableName); err != nil {
			return fmt.Errorf("network %s: %w", n.Name, err)
		}
	}
	for _, ep := range st.Endpoints {
		n, ok := m.networks[ep.NetworkID]
		if !ok || !m.driver.NetNSExists(ep.NetNSPath) || !m.driver.LinkExists(ep.HostIfName) {
			// the container's namespace went while berthd was away
			if ok {
				_ = m.driver.Detach(ctx, ep)
			}
			continue
		}
		if err := m.pools[n.ID].Reserve(ep.IPAddress); err != nil {
			m.log.Warn("restore endpoint address", "container", ep.ContainerID, "network", n.Name, "err", err)
		}
		if pool6 := m.pools6[n.ID]; pool6 != nil && ep.IPv6Address.IsValid() {
			if err := pool6.Reserve(ep.IPv6Address); err != nil {
				m.log.Warn("restore endpoint IPv6 address", "container", ep.ContainerID, "network", n.Name, "err", err)
			}
		}
		if err := m.ports.Restore(endpointKey(n.ID, ep.ContainerID), ep.Ports); err != nil {
			m.log.Warn("restore published ports", "container", ep.ContainerID, "err", err)
		}
		m.endpoints[endpointKey(n.ID, ep.ContainerID)] = ep
	}
	m.removeStaleLinks(ctx)
	if err := m.applyFirewall(ctx); err != nil {
		return err
	}
	if err := m.save(); err != nil {
		// what restore dropped is dropped again at the next boot: a full
		// disk must not keep berthd from starting
		m.log.Warn("save the restored network state", "err", err)
	}
	return nil
}

// ensureDefaultNetworks creates "bridge", "host" and "none" when missing and
// moves "bridge" to the configured bridge and subnet when they changed and
// no container uses it. m.mu is held.
func (m *Manager) ensureDefaultNetworks() error {
	for _, pre := range []struct{ name, driver string }{{HostNetwork, DriverHost}, {NoneNetwork, DriverNull}} {
		if m.byName(pre.name) == nil {
			n := &Network{ID: newID(), Name: pre.name, Driver: pre.driver, Created: time.Now().UTC()}
			m.networks[n.ID] = n
		}
	}
	bip := m.cfg.DefaultBIP
	subnet := bip.Masked()
	if n := m.byName(DefaultNetwork); n != nil {
		if n.Bridge == m.cfg.DefaultBridge && n.Subnet == subnet && n.Gateway == bip.Addr() && m.sameDefaultIPv6(n) {
			return nil
		}
		for _, ep := range m.endpoints {
			if ep.NetworkID == n.ID {
				m.log.Warn("default bridge settings changed but containers still use the old ones", "bridge", n.Bridge, "subnet", n.Subnet)
				return nil
			}
		}
		if n.Bridge != m.cfg.DefaultBridge {
			_ = m.driver.DeleteBridge(context.Background(), n.Bridge)
		}
		delete(m.networks, n.ID)
		delete(m.pools, n.ID)
		delete(m.pools6, n.ID)
	}
	gw := bip.Addr()
	if gw == subnet.Addr() {
		gw = netip.Addr{} // --bip 172.17.0.0/16 means the first address
	}
	pool, err := ipam.NewPool(subnet, netip.Prefix{}, gw)
	if err != nil {
		return fmt.Errorf("default bridge: %w", err)
	}
	n := &Network{
		ID: newID(), Name: DefaultNetwork, Driver: DriverBridge, Bridge: m.cfg.DefaultBridge,
		Subnet: pool.Subnet(), Gateway: pool.Gateway(), Created: time.Now().UTC(),
		Options: map[string]string{
			// what dockerd shows for its default bridge
			"com.docker.network.bridge.default_bridge":       "true",
			"com.docker.network.bridge.enable_icc":           "true",
			"com.docker.network.bridge.enable_ip_masquerade": "true",
			"com.docker.network.bridge.host_binding_ipv4":    "0.0.0.0",
			BridgeNameOption:                m.cfg.DefaultBridge,
			"com.docker.network.driver.mtu": strconv.Itoa(m.mtu()),
		},
	}
	if m.cfg.DefaultIPv6 {
		subnet6 := m.cfg.DefaultFixedCIDRv6
		if !subnet6.IsValid() {
			if subnet6, err = ipam.NextSubnet6(m.cfg.AddressPools, m.subnets()); err != nil {
				return fmt.Errorf("default bridge: %w", err)
			}
		}
		pool6, err := ipam.NewPool(subnet6, netip.Prefix{}, netip.Addr{})
		if err != nil {
			return fmt.Errorf("default bridge: fixed-cidr-v6: %w", err)
		}
		n.EnableIPv6, n.Subnet6, n.Gateway6 = true, pool6.Subnet(), pool6.Gateway()
		m.pools6[n.ID] = pool6
	}
	m.networks[n.ID] = n
	m.pools[n.ID] = pool
	return nil
}

// sameDefaultIPv6 reports whether the stored default network n has the
// configured IPv6 settings. m.mu is held.
func (m *Manager) sameDefaultIPv6(n *Network) bool {
	if n.EnableIPv6 != m.cfg.DefaultIPv6 {
		return false
	}
	// without --fixed-cidr-v6 the subnet chosen before is kept
	return !m.cfg.DefaultFixedCIDRv6.IsValid() || n.Subnet6 == m.cfg.DefaultFixedCIDRv6.Masked()
}

// removeStaleLinks deletes bridges and veths marked as berth's (with this
// manager's table name) that the state does not know. m.mu is held.
func (m *Manager) removeStaleLinks(ctx context.Context) {
	bridges, veths, err := m.driver.Owned(ctx, m.cfg.TableName)
	if err != nil {
		m.log.Warn("list links", "err", err)
		return
	}
	known := map[string]bool{}
	for _, n := range m.networks {
		known[n.Bridge] = true
	}
	for _, ep := range m.endpoints {
		known[ep.HostIfName] = true
	}
	for _, name := range append(bridges, veths...) {
		if !known[name] {
			if err := m.driver.DeleteBridge(ctx, name); err != nil {
				m.log.Warn("remove stale link", "link", name, "err", err)
			}
		}
	}
}

// applyFirewall programs the rules for the current state. m.mu is held.
func (m *Manager) applyFirewall(ctx context.Context) error {
	var rs firewall.Ruleset
	for _, n := range m.networks {
		if n.Driver == DriverBridge {
			rs.Networks = append(rs.Networks, firewall.Network{Bridge: n.Bridge, Subnet: n.Subnet, Subnet6: n.Subnet6, Internal: n.Internal})
		}
	}
	for _, ep := range m.endpoints {
		for _, b := range ep.Ports {
			to := b.ContainerIP
			if !to.IsValid() {
				to = ep.IPAddress // state from before IPv6
			}
			rs.Ports = append(rs.Ports, firewall.Port{
				Proto: b.Proto, HostIP: b.HostIP, HostPort: b.HostPort,
				ContainerIP: to, ContainerPort: b.ContainerPort,
			})
		}
	}
	slices.SortFunc(rs.Networks, func(a, b firewall.Network) int { return strings.Compare(a.Bridge, b.Bridge) })
	slices.SortFunc(rs.Ports, func(a, b firewall.Port) int {
		if a.HostPort != b.HostPort {
			return int(a.HostPort) - int(b.HostPort)
		}
		if c := strings.Compare(a.Proto, b.Proto); c != 0 {
			return c
		}
		return a.HostIP.Compare(b.HostIP)
	})
	if err := m.fw.Apply(ctx, rs); err != nil {
		return fmt.Errorf("program firewall: %w", err)
	}
	return nil
}

// Close stops the embedded DNS servers and releases the host port
// reservations. Bridges, veths, rules and namespaces stay: running
// containers keep their networking, and the next New takes them over.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	servers := m.dns
	m.dns = map[string]*dns.Server{}
	for _, ep := range m.endpoints {
		m.ports.Release(endpointKey(ep.NetworkID, ep.ContainerID))
	}
	m.mu.Unlock()
	for _, s := range servers {
		_ = s.Shutdown(ctx)
	}
	return nil
}

// Destroy removes everything the manager made: endpoints, bridges (the
// default one included), the firewall table and the stored state. For tests
// and uninstalling; best effort, every failure reported.
func (m *Manager) Destroy(ctx context.Context) error {
	var errs []error
	m.mu.RLock()
	var eps []*Endpoint
	for _, ep := range m.endpoints {
		eps = append(eps, ep)
	}
	m.mu.RUnlock()
	for _, ep := range eps {
		errs = append(errs, m.Disconnect(ctx, ep.NetworkID, ep.ContainerID))
	}
	_ = m.Close(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.networks {
		if n.Driver == DriverBridge {
			errs = append(errs, m.driver.DeleteBridge(ctx, n.Bridge))
		}
	}
	errs = append(errs, m.fw.Delete(ctx))
	if err := os.Remove(m.cfg.Root + "/" + stateFile); err != nil && !os.IsNotExist(err) {
		errs = append(errs, err)
	}
	m.networks = map[string]*Network{}
	m.pools = map[string]*ipam.Pool{}
	m.pools6 = map[string]*ipam.Pool{}
	return errors.Join(errs...)
}

func (m *Manager) mtu() int {
	if m.cfg.MTU > 0 {
		return m.cfg.MTU
	}
	return 1500
}

func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
