package daemon

import (
	"context"
	"fmt"
	"github.com/moby/moby/api/types/events"
	"slices"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/network"
)

// NetworkList lists networks, with docker's filters.
func (d *Daemon) NetworkList(ctx context.Context, filters backend.Filters) ([]networktypes.Summary, error) {
	m, err := d.networks(ctx)
	if err != nil {
		return nil, err
	}
	match, err := networkFilter(filters, m)
	if err != nil {
		return nil, err
	}
	out := []networktypes.Summary{}
	for _, s := range m.Summaries() {
		if match(s.Network) {
			out = append(out, s)
		}
	}
	return out, nil
}

// networkFilter compiles `network ls --filter`.
func networkFilter(f backend.Filters, m Networks) (func(networktypes.Network) bool, error) {
	for key := range f {
		switch key {
		case "name", "id", "driver", "label", "type", "scope", "dangling":
		default:
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	anyOf := func(key string, ok func(v string) bool) bool {
		values := f[key]
		if len(values) == 0 {
			return true
		}
		for _, v := range values {
			if ok(v) {
				return true
			}
		}
		return false
	}
	return func(n networktypes.Network) bool {
		builtin := n.Name == network.DefaultNetwork || n.Name == network.HostNetwork || n.Name == network.NoneNetwork
		return anyOf("name", func(v string) bool { return strings.Contains(n.Name, v) }) &&
			anyOf("id", func(v string) bool { return strings.HasPrefix(n.ID, v) }) &&
			anyOf("driver", func(v string) bool { return n.Driver == v }) &&
			anyOf("scope", func(v string) bool { return n.Scope == v }) &&
			anyOf("type", func(v string) bool { return (v == "builtin") == builtin }) &&
			f.MatchLabels("label", n.Labels) &&
			anyOf("dangling", func(v string) bool {
				eps, _ := m.NetworkEndpoints(n.ID)
				return (v == "true" || v == "1") == (len(eps) == 0 && !builtin)
			})
	}, nil
}

// NetworkInspect describes one network and its endpoints.
func (d *Daemon) NetworkInspect(ctx context.Context, name string, verbose bool) (*networktypes.Inspect, error) {
	m, err := d.networks(ctx)
	if err != nil {
		return nil, err
	}
	n, err := m.Inspect(name)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// NetworkCreate creates a bridge network.
func (d *Daemon) NetworkCreate(ctx context.Context, req networktypes.CreateRequest) (*networktypes.CreateResponse, error) {
	if req.Name == "" {
		return nil, errdefs.ErrInvalidArgument.WithMessage("network name is required")
	}
	m, err := d.networks(ctx)
	if err != nil {
		return nil, err
	}
	opts := network.CreateOptions{Driver: req.Driver, Internal: req.Internal, Attachable: req.Attachable, Labels: req.Labels, Options: req.Options,
		EnableIPv6: req.EnableIPv6 != nil && *req.EnableIPv6}
	if req.IPAM != nil {
		opts.IPAMOptions = req.IPAM.Options
		if err := opts.SetIPAM(req.IPAM.Config); err != nil {
			return nil, err
		}
	}
	n, err := m.Create(ctx, req.Name, opts)
	if err != nil {
		return nil, err
	}
	return &networktypes.CreateResponse{ID: n.ID}, nil
}

// NetworkRemove deletes a user-defined network without endpoints.
func (d *Daemon) NetworkRemove(ctx context.Context, name string) error {
	m, err := d.networks(ctx)
	if err != nil {
		return err
	}
	return m.Remove(ctx, name)
}

// NetworkPrune removes the unused user-defined networks.
func (d *Daemon) NetworkPrune(ctx context.Context, filters backend.Filters) (*networktypes.PruneReport, error) {
	m, err := d.networks(ctx)
	if err != nil {
		return nil, err
	}
	for key := range filters {
		if key != "label" && key != "until" {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", key))
		}
	}
	names, err := m.Prune(ctx, func(n *network.Network) bool { return filters.MatchLabels("label", n.Labels) })
	if err != nil {
		return nil, err
	}
	d.logPruneEvent(events.NetworkEventType, 0)
	return &networktypes.PruneReport{NetworksDeleted: names}, nil
}

// NetworkConnect attaches a running container to another network.
func (d *Daemon) NetworkConnect(ctx context.Context, name string, req networktypes.ConnectRequest) error {
	m, err := d.networks(ctx)
	if err != nil {
		return err
	}
	c, err := d.lookup(req.Container)
	if err != nil {
		return err
	}
	n, err := m.Get(name)
	if err != nil {
		return err
	}
	c.Lock()
	defer c.Unlock()
	if endpointNetworks(c.HostConfig, c.NetworkingConfig) == nil {
		return errdefs.ErrInvalidArgument.WithMessage("container cannot be disconnected from host network or connected to host network")
	}
	es := req.EndpointConfig
	if es == nil {
		es = &networktypes.EndpointSettings{}
	}
	if c.NetworkingConfig == nil {
		c.NetworkingConfig = &networktypes.NetworkingConfig{}
	}
	if c.NetworkingConfig.EndpointsConfig == nil {
		c.NetworkingConfig.EndpointsConfig = map[string]*networktypes.EndpointSettings{}
	}
	if c.State.Status == containertypes.StateRunning {
		opts := network.EndpointOptions{ContainerID: c.ID, Name: strings.TrimPrefix(c.Name, "/"), Aliases: es.Aliases,
			MacAddress: es.MacAddress.String(), NetNSPath: d.netnsPath(c.ID)}
		if es.IPAMConfig != nil {
			opts.IPv4, opts.IPv6 = es.IPAMConfig.IPv4Address, es.IPAMConfig.IPv6Address
		}
		if _, err := m.Connect(ctx, n.Name, opts); err != nil {
			return err
		}
	}
	c.NetworkingConfig.EndpointsConfig[n.Name] = es
	if err := c.Save(d.containerDataDir(c.ID)); err != nil {
		return err
	}
	if c.State.Status == containertypes.StateRunning {
		return d.writeEtcFiles(ctx, c)
	}
	return nil
}

// NetworkDisconnect detaches a container from a network.
func (d *Daemon) NetworkDisconnect(ctx context.Context, name string, req networktypes.DisconnectRequest) error {
	m, err := d.networks(ctx)
	if err != nil {
		return err
	}
	n, err := m.Get(name)
	if err != nil {
		return err
	}
	c, err := d.lookup(req.Container)
	if err != nil {
		if req.Force && errdefs.IsNotFound(err) {
			return m.Disconnect(ctx, n.ID, req.Container)
		}
		return err
	}
	c.Lock()
	defer c.Unlock()
	if !slices.Contains(endpointNetworks(c.HostConfig, c.NetworkingConfig), n.Name) {
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("container %s is not connected to network %s", c.ID, n.Name))
	}
	if err := m.Disconnect(ctx, n.ID, c.ID); err != nil {
		return err
	}
	if c.NetworkingConfig != nil {
		delete(c.NetworkingConfig.EndpointsConfig, n.Name)
	}
	return c.Save(d.containerDataDir(c.ID))
}

func (d *Daemon) netnsPath(id string) string { return network.NetNSPath(d.cfg.ExecRoot, id) }
