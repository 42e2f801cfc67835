package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/network"
)

// networks returns the network manager, creating it on first use (see
// Parts.Networks).
func (d *Daemon) networks(ctx context.Context) (Networks, error) {
	d.netMu.Lock()
	defer d.netMu.Unlock()
	if d.net != nil {
		return d.net, nil
	}
	m, err := d.newNetworks(ctx)
	if err != nil {
		return nil, fmt.Errorf("start networking: %w", err)
	}
	d.net = m
	return m, nil
}

// networkStateExists reports whether a previous berthd set up networks, in
// which case the manager starts with the daemon to reconcile them.
func (d *Daemon) networkStateExists() bool {
	_, err := os.Stat(filepath.Join(d.cfg.DataRoot, "network"))
	return err == nil
}

// endpointNetworks are the networks a container with a network stack of its
// own has endpoints on, the first carrying ports and the default route; nil
// for the host's stack, none and container:<ref>. Like docker, "default"
// (or nothing) is the "bridge" network.
func endpointNetworks(hc *containertypes.HostConfig, nc *networktypes.NetworkingConfig) []string {
	mode := hc.NetworkMode
	switch {
	case mode.IsHost(), mode.IsNone(), mode.IsContainer():
		return nil
	case mode == "", mode.IsDefault():
		mode = network.DefaultNetwork
	}
	networks := []string{string(mode)}
	if nc != nil {
		for name := range nc.EndpointsConfig {
			if name == networktypes.NetworkDefault {
				name = network.DefaultNetwork
			}
			if name != string(mode) {
				networks = append(networks, name)
			}
		}
	}
	return networks
}

// setupNetworking prepares c's network namespace before its runtime create
// and returns the path to give the runtime ("" for a fresh empty one,
// "host" for the host's). c is locked.
func (d *Daemon) setupNetworking(ctx context.Context, c *container.Container) (string, error) {
	mode := c.HostConfig.NetworkMode
	switch {
	case mode.IsHost():
		return "host", nil
	case mode.IsNone():
		return "", nil
	case mode.IsContainer():
		return d.joinContainerNetwork(mode.ConnectedContainer())
	}
	m, err := d.networks(ctx)
	if err != nil {
		return "", err
	}
	if err := d.createUserNetNS(c); err != nil {
		return "", err
	}
	path, err := m.NewNetNS(c.ID)
	if err != nil {
		return "", fmt.Errorf("create network namespace: %w", err)
	}
	for i, name := range endpointNetworks(c.HostConfig, c.NetworkingConfig) {
		opts := network.EndpointOptions{
			ContainerID: c.ID,
			Name:        strings.TrimPrefix(c.Name, "/"),
			NetNSPath:   path,
		}
		for _, dns := range c.HostConfig.DNS {
			opts.DNS = append(opts.DNS, dns.String())
		}
		if es := requestedEndpoint(c.NetworkingConfig, name); es != nil {
			opts.Aliases = es.Aliases
			opts.MacAddress = es.MacAddress.String()
			if es.IPAMConfig != nil {
				opts.IPv4, opts.IPv6 = es.IPAMConfig.IPv4Address, es.IPAMConfig.IPv6Address
			}
		}
		if i == 0 {
			opts.PortBindings = c.HostConfig.PortBindings
			opts.ExposedPorts = c.Config.ExposedPorts
			opts.PublishAllPorts = c.HostConfig.PublishAllPorts
		}
		if _, err := m.Connect(ctx, name, opts); err != nil {
			d.teardownNetworking(context.WithoutCancel(ctx), c.ID)
			return "", err
		}
	}
	return path, nil
}

// requestedEndpoint is what the create request (or a network connect of a
// stopped container) asked of the endpoint on network name; clients say
// "default" for the default bridge.
func requestedEndpoint(nc *networktypes.NetworkingConfig, name string) *networktypes.EndpointSettings {
	if nc == nil {
		return nil
	}
	es := nc.EndpointsConfig[name]
	if es == nil && name == network.DefaultNetwork {
		es = nc.EndpointsConfig["default"]
	}
	return es
}

// joinContainerNetwork is --network container:<ref>: share a running
// container's namespace.
func (d *Daemon) joinContainerNetwork(ref string) (string, error) {
	other, err := d.lookup(ref)
	if err != nil {
		return "", err
	}
	other.Lock()
	pid, running := other.State.Pid, other.State.Status == containertypes.StateRunning
	other.Unlock()
	if !running {
		return "", errdefs.ErrConflict.WithMessage(fmt.Sprintf("cannot join network namespace of a non running container: %s", other.ID))
	}
	if nsPath := d.netnsPath(other.ID); fileExists(nsPath) {
		return nsPath, nil
	}
	return fmt.Sprintf("/proc/%d/ns/net", pid), nil
}

// teardownNetworking releases c's endpoints and namespace. Best effort and
// idempotent.
func (d *Daemon) teardownNetworking(ctx context.Context, id string) {
	d.netMu.Lock()
	m := d.net
	d.netMu.Unlock()
	if m == nil {
		return
	}
	began := time.Now()
	release := m.ReleaseAll // the namespace's destruction deletes the veths
	if d.netnsShared(id) {
		release = m.DisconnectAll // a container:<id> keeps the namespace alive
	}
	err := errors.Join(
		release(ctx, id),
		network.RemoveNetNS(d.netnsPath(id)),
	)
	d.log.Debug("network teardown", "id", id, "took", time.Since(began))
	if err != nil {
		d.log.Warn("network teardown", "id", id, "err", err)
	}
}

// netnsShared reports whether a running container joined id's network
// namespace (--network container:<id>).
func (d *Daemon) netnsShared(id string) bool {
	for _, c := range d.containers.List() {
		if c.ID == id || d.task(c.ID) == nil {
			continue
		}
		if !c.HostConfig.NetworkMode.IsContainer() {
			continue
		}
		if other, err := d.lookup(c.HostConfig.NetworkMode.ConnectedContainer()); err == nil && other.ID == id {
			return true
		}
	}
	return false
}

// hostsEntries are the /etc/hosts lines naming the container's own addresses.
func (d *Daemon) hostsEntries(id, hostname string) []string {
	d.netMu.Lock()
	m := d.net
	d.netMu.Unlock()
	if m == nil {
		return nil
	}
	var lines []string
	for _, ep := range m.Endpoints(id) {
		lines = append(lines, ep.IPAddress.String()+"\t"+hostname)
		if ep.IPv6Address.IsValid() {
			lines = append(lines, ep.IPv6Address.String()+"\t"+hostname)
		}
	}
	return lines
}

// usesEmbeddedDNS reports whether c's first network has the embedded resolver.
func (d *Daemon) usesEmbeddedDNS(ctx context.Context, c *container.Container) bool {
	networks := endpointNetworks(c.HostConfig, c.NetworkingConfig)
	if len(networks) == 0 {
		return false
	}
	m, err := d.networks(ctx)
	if err != nil {
		return false
	}
	n, err := m.Get(networks[0])
	return err == nil && n.EmbeddedDNS()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// portSummaries are ps's PORTS for c: every exposed port, with its host
// bindings when published.
func (d *Daemon) portSummaries(id string) []containertypes.PortSummary {
	d.netMu.Lock()
	m := d.net
	d.netMu.Unlock()
	if m == nil {
		return nil
	}
	eps := m.Endpoints(id)
	if len(eps) == 0 {
		return nil
	}
	var out []containertypes.PortSummary
	for port, bindings := range eps[0].PortMap() {
		if len(bindings) == 0 {
			out = append(out, containertypes.PortSummary{PrivatePort: port.Num(), Type: string(port.Proto())})
			continue
		}
		for _, b := range bindings {
			public, _ := strconv.ParseUint(b.HostPort, 10, 16)
			out = append(out, containertypes.PortSummary{IP: b.HostIP, PrivatePort: port.Num(), PublicPort: uint16(public), Type: string(port.Proto())})
		}
	}
	return out
}

// networkSummaries are ps's NETWORKS for a container: the networks inspect
// shows, so a created or stopped container lists them too, as docker's does.
// c is locked (or a saved copy).
func (d *Daemon) networkSummaries(c *container.Container, ns *containertypes.NetworkSettingsSummary) {
	if ns == nil {
		return
	}
	all := &containertypes.NetworkSettings{Networks: map[string]*networktypes.EndpointSettings{}}
	d.networkSettings(c, all)
	ns.Networks = all.Networks
}

// linkEntries are the /etc/hosts lines of legacy --link name:alias on the
// default bridge: "<ip>\t<alias> <name>" for each running linked container.
func (d *Daemon) linkEntries(c *container.Container) []string {
	d.netMu.Lock()
	m := d.net
	d.netMu.Unlock()
	if m == nil {
		return nil
	}
	var lines []string
	for _, link := range c.HostConfig.Links {
		name, alias := parseLink(link)
		other, err := d.lookup(name)
		if err != nil {
			continue
		}
		ep, err := m.Endpoint(network.DefaultNetwork, other.ID)
		if err != nil {
			continue
		}
		names := strings.TrimPrefix(other.Name, "/")
		if alias != "" && alias != names {
			names = alias + " " + names
		}
		lines = append(lines, ep.IPAddress.String()+"\t"+names+" "+other.ID[:12])
	}
	return lines
}

// hostGateway is the address --add-host name:host-gateway maps to: the
// default bridge's gateway (the host's address on it).
func (d *Daemon) hostGateway() string {
	m, err := d.networks(context.Background())
	if err != nil {
		return ""
	}
	n, err := m.Get(network.DefaultNetwork)
	if err != nil || !n.Gateway.IsValid() {
		return ""
	}
	return n.Gateway.String()
}
