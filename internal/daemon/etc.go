package daemon

import (
	"context"
	"fmt"
	"os"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/oci"
)

func isHostNetwork(hc *containertypes.HostConfig) bool { return resolveNetworkMode(hc, nil).host }

// writeEtcFiles generates the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, which are bind-mounted over the image's.
func (d *Daemon) writeEtcFiles(ctx context.Context, c *container.Container) error {
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read host resolv.conf: %w", err)
	}
	var hosts, resolv []byte
	if isHostNetwork(c.HostConfig) {
		// Host networking shares the host's view of names, like docker.
		if hosts, err = os.ReadFile("/etc/hosts"); err != nil {
			hosts = oci.HostsFile(c.Config.Hostname, nil)
		}
		resolv = hostResolv
		if len(c.HostConfig.DNS) > 0 || len(c.HostConfig.DNSSearch) > 0 || len(c.HostConfig.DNSOptions) > 0 {
			resolv = oci.ResolvConf(hostResolv, c.HostConfig.DNS, c.HostConfig.DNSSearch, c.HostConfig.DNSOptions)
		}
	} else {
		extra := append(d.extraHosts(c.HostConfig), d.linkEntries(c)...)
		hosts = oci.HostsFile(c.Config.Hostname, append(extra, d.hostsEntries(c.ID, c.Config.Hostname)...))
		if d.usesEmbeddedDNS(ctx, c) {
			resolv = network.ResolvConf(hostResolv, c.HostConfig.DNSSearch, c.HostConfig.DNSOptions)
		} else {
			resolv = oci.ResolvConf(hostResolv, c.HostConfig.DNS, c.HostConfig.DNSSearch, c.HostConfig.DNSOptions)
		}
	}
	for path, data := range map[string][]byte{
		c.HostnamePath:   []byte(c.Config.Hostname + "\n"),
		c.HostsPath:      hosts,
		c.ResolvConfPath: resolv,
	} {
		// written in place, not renamed: a running container sees the
		// update through its bind mount (network connect); the files are
		// regenerated at every start, so they need no fsync either
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
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
