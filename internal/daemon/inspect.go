package daemon

import (
	"context"
	"fmt"
	"github.com/moby/moby/api/types/events"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/volume"
)

// ContainerInspect returns docker's inspect document for a container.
func (d *Daemon) ContainerInspect(ctx context.Context, name string, size bool) (*containertypes.InspectResponse, error) {
	c, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	if err := d.waitRestart(ctx, c); err != nil {
		return nil, err
	}
	c.Lock()
	resp := c.Inspect()
	resp.Mounts = volume.MountPoints(mountSpecs(c), d.volumeFolder, d.anonymousVolume)
	d.hideAnonymousBinds(resp.HostConfig)
	d.hostConfigAnswer(c, resp.HostConfig)
	d.networkSettings(c, resp.NetworkSettings)
	c.Unlock()
	if size {
		rw := d.rwSize(c.ID)
		resp.SizeRw = &rw
		if img, err := d.images.Get(ctx, c.ImageID); err == nil {
			total := img.Size + rw
			resp.SizeRootFs = &total
		}
	}
	return resp, nil
}

// hostConfigAnswer completes inspect's HostConfig with what docker fills at
// create: the log driver and runtime the container uses, and its links
// named as docker's link graph names them. c is locked.
func (d *Daemon) hostConfigAnswer(c *container.Container, hc *containertypes.HostConfig) {
	if hc == nil {
		return
	}
	if hc.LogConfig.Type == "" {
		hc.LogConfig.Type = logJSONFile // created before the daemon recorded it
	}
	if hc.LogConfig.Config == nil {
		hc.LogConfig.Config = map[string]string{}
	}
	if hc.Runtime == "" {
		hc.Runtime = filepath.Base(d.cfg.Runtime)
	}
	if len(hc.Links) > 0 {
		hc.Links = d.inspectLinks(c.Name, hc)
	}
}

// networkSettings fills inspect's NetworkSettings.Networks as docker does:
// an entry for every network the container is configured for, started or
// not, with its Ports and SandboxKey from the first endpoint. c is locked.
func (d *Daemon) networkSettings(c *container.Container, ns *containertypes.NetworkSettings) {
	if ns == nil {
		return
	}
	if ns.Networks == nil {
		ns.Networks = map[string]*networktypes.EndpointSettings{}
	}
	d.netMu.Lock()
	m := d.net
	d.netMu.Unlock()
	refs := endpointNetworks(c.HostConfig, c.NetworkingConfig)
	switch mode := c.HostConfig.NetworkMode; {
	case mode.IsHost():
		refs = []string{network.HostNetwork}
	case mode.IsNone():
		refs = []string{network.NoneNetwork}
	}
	var live []*network.Endpoint
	// an exited container's endpoints may linger while its shim goes:
	// they are not its addresses any more
	if st := c.State.Status; m != nil && (st == containertypes.StateRunning || st == containertypes.StatePaused) {
		live = m.Endpoints(c.ID)
	}
	for _, ref := range refs {
		var n *network.Network
		if m != nil {
			n, _ = m.Get(ref) // a network removed since create still shows under its name
		}
		name := ref
		var ep *network.Endpoint
		if n != nil {
			name = n.Name
			for _, e := range live {
				if e.NetworkID == n.ID {
					ep = e
				}
			}
		}
		ns.Networks[name] = endpointSettings(requestedEndpoint(c.NetworkingConfig, ref), n, ep, c)
	}
	if len(live) > 0 {
		ns.Ports = live[0].PortMap()
		ns.SandboxKey = live[0].NetNSPath
	}
}

// endpointSettings is one entry of inspect's NetworkSettings.Networks, kept
// as docker keeps it: what the request asked (IPAMConfig, Links, Aliases,
// DriverOpts, MacAddress); while connected, the endpoint's ids, addresses
// and MAC; once the container has started, the network's id and the DNS
// names stay and only the addresses go when it stops. DNS names exist on
// user-defined networks only. req, n and ep may be nil.
func endpointSettings(req *networktypes.EndpointSettings, n *network.Network, ep *network.Endpoint, c *container.Container) *networktypes.EndpointSettings {
	es := req.Copy()
	if es == nil {
		es = &networktypes.EndpointSettings{}
	}
	switch {
	case ep != nil:
		mac, _ := net.ParseMAC(ep.MacAddress)
		es.NetworkID, es.EndpointID = ep.NetworkID, ep.ID
		es.Gateway, es.IPAddress, es.IPPrefixLen = ep.Gateway, ep.IPAddress, ep.PrefixLen
		es.GlobalIPv6Address, es.GlobalIPv6PrefixLen, es.IPv6Gateway = ep.IPv6Address, ep.IPv6PrefixLen, ep.IPv6Gateway
		es.MacAddress = networktypes.HardwareAddr(mac)
		es.DNSNames = nil
		if ep.EmbeddedDNS {
			es.DNSNames = ep.DNSNames()
		}
	case n != nil && !c.State.StartedAt.IsZero():
		es.NetworkID = n.ID
		es.MacAddress = nil
		if n.EmbeddedDNS() {
			gone := network.Endpoint{Name: strings.TrimPrefix(c.Name, "/"), Aliases: es.Aliases, ContainerID: c.ID}
			es.DNSNames = gone.DNSNames()
		}
	}
	return es
}

// ContainerRename gives a container a new name.
func (d *Daemon) ContainerRename(ctx context.Context, name, newName string) error {
	if newName == "" || strings.TrimPrefix(newName, "/") == "" {
		return errdefs.ErrInvalidArgument.WithMessage("Neither old nor new names may be empty")
	}
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	c.Lock()
	defer c.Unlock()
	if strings.TrimPrefix(c.Name, "/") == strings.TrimPrefix(newName, "/") {
		return errdefs.ErrInvalidArgument.WithMessage("Renaming a container with the same name as its current name")
	}
	old := c.Name
	if err := d.containers.Rename(c.ID, newName); err != nil {
		return err
	}
	if err := c.Save(d.containerDataDir(c.ID)); err != nil {
		_ = d.containers.Rename(c.ID, old)
		return fmt.Errorf("save renamed container: %w", err)
	}
	d.renameEndpoints(c.ID, newName)
	d.logContainerEvent(c, events.ActionRename, map[string]string{"oldName": old})
	return nil
}

// renameEndpoints has the embedded DNS answer a running container's new
// name (a stopped one has no endpoints: its next start uses the name).
// Best effort: the rename is done.
func (d *Daemon) renameEndpoints(id, name string) {
	d.netMu.Lock()
	m := d.net
	d.netMu.Unlock()
	if m == nil {
		return
	}
	if err := m.RenameEndpoints(id, strings.TrimPrefix(name, "/")); err != nil {
		d.log.Warn("rename endpoints", "id", id, "err", err)
	}
}

// ContainerResize changes the size of a container's TTY.
func (d *Daemon) ContainerResize(ctx context.Context, name string, height, width uint) error {
	c, err := d.lookup(name)
	if err != nil {
		return err
	}
	t := d.task(c.ID)
	if t == nil {
		return errNotRunning(c.ID)
	}
	if !c.Config.Tty {
		return nil
	}
	if err := t.Shim().Resize(ctx, uint16(width), uint16(height)); err != nil {
		return err
	}
	d.lockAndLogContainerEvent(c, events.ActionResize, map[string]string{
		"height": strconv.FormatUint(uint64(height), 10),
		"width":  strconv.FormatUint(uint64(width), 10),
	})
	return nil
}
