package daemon

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/etcfiles"
	"github.com/berth-project/berth/internal/network/dns"
)

// writeEtcFiles generates the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, which are bind-mounted over the image's. A container on
// another's network stack (container:<ref>) shares that container's files
// and hostname instead, like docker. c is locked.
func (d *Daemon) writeEtcFiles(ctx context.Context, c *container.Container) error {
	if c.HostConfig.NetworkMode.IsContainer() {
		return d.shareEtcFiles(c)
	}
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read host resolv.conf: %w", err)
	}
	host := etcfiles.Host{ResolvConf: etcfiles.ParseResolvConf(hostResolv)}
	p := etcfiles.Params{
		Hostname:   c.Config.Hostname,
		DNS:        c.HostConfig.DNS,
		DNSSearch:  c.HostConfig.DNSSearch,
		DNSOptions: c.HostConfig.DNSOptions,
	}
	if c.HostConfig.NetworkMode.IsHost() {
		p.HostNetwork = true
		if hosts, err := os.ReadFile("/etc/hosts"); err == nil {
			host.Hosts = hosts
		}
	} else {
		p.Hosts = append(append(d.extraHosts(c.HostConfig), d.linkEntries(c)...), d.hostsEntries(c.ID, c.Config.Hostname)...)
		if d.usesEmbeddedDNS(ctx, c) {
			p.EmbeddedDNS = dns.Address
		}
	}
	files := etcfiles.Generate(host, p)
	for path, data := range map[string][]byte{
		c.HostnamePath:   files.Hostname,
		c.HostsPath:      files.Hosts,
		c.ResolvConfPath: files.ResolvConf,
	} {
		// written in place, not renamed: a running container sees the
		// update through its bind mount (network connect); the files are
		// regenerated at every start, so they need no fsync either
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return d.chownToRoot(c.HostnamePath, c.HostsPath, c.ResolvConfPath)
}

// shareEtcFiles points c's /etc files and hostname at those of the container
// whose network stack it joins, as docker does at each start. c is locked.
func (d *Daemon) shareEtcFiles(c *container.Container) error {
	other, err := d.lookup(c.HostConfig.NetworkMode.ConnectedContainer())
	if err != nil {
		return err
	}
	if other.ID == c.ID {
		return errdefs.ErrInvalidArgument.WithMessage("cannot join own network namespace")
	}
	other.Lock()
	defer other.Unlock()
	c.Config.Hostname, c.Config.Domainname = other.Config.Hostname, other.Config.Domainname
	c.HostnamePath, c.HostsPath, c.ResolvConfPath = other.HostnamePath, other.HostsPath, other.ResolvConfPath
	return nil
}

// extraHosts turns --add-host entries ("name:ip") into hosts lines;
// "host-gateway" is the default bridge's gateway, as in docker.
func (d *Daemon) extraHosts(hc *containertypes.HostConfig) []string {
	var lines []string
	for _, h := range hc.ExtraHosts {
		// docker splits at the first separator: names hold no ':' but IPv6 addresses do.
		if i := strings.IndexAny(h, ":="); i > 0 {
			ip := h[i+1:]
			if ip == "host-gateway" {
				ip = d.hostGateway()
			}
			lines = append(lines, ip+"\t"+h[:i])
		}
	}
	return lines
}
