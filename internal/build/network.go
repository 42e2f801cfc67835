package build

import (
	"context"
	"net/netip"
	"strings"
)

// The optional parts of Sandboxes: the daemon implements them, a test fake
// may leave them out.
type (
	// SandboxHosts tells what a sandbox's /etc files need from the engine,
	// so that RUN steps see the /etc/hosts and resolv.conf a container on
	// the same network gets.
	SandboxHosts interface {
		// SandboxHosts are the /etc/hosts lines naming sandbox id's own
		// addresses ("172.17.0.3\t<hostname>"), and the address of the
		// embedded resolver when its network has one (invalid otherwise).
		SandboxHosts(id, hostname string) (lines []string, embeddedDNS netip.Addr)
	}

	// SandboxCleaner removes the sandboxes an earlier engine left behind
	// (a berthd killed mid-build); the builder calls it when BuildKit
	// starts, before any step runs.
	SandboxCleaner interface {
		RemoveSandboxes(ctx context.Context) error
	}

	// HostGateway tells the address --add-host name:host-gateway maps to:
	// the default bridge's gateway. The builder advertises it in the
	// worker's labels, where buildx's docker driver looks it up.
	HostGateway interface {
		HostGatewayIP() string
	}
)

// HostGatewayLabel is the worker label that carries the host-gateway
// address (buildx's docker driver reads it to resolve --add-host
// name:host-gateway; the name is dockerd's).
const HostGatewayLabel = "org.mobyproject.buildkit.worker.moby.host-gateway-ip"

// hostGatewayLabels are the worker labels the network contributes: the
// host-gateway address when the engine tells it.
func (b *Builder) hostGatewayLabels() map[string]string {
	hg, ok := b.cfg.Sandboxes.(HostGateway)
	if !ok {
		return nil
	}
	ip := hg.HostGatewayIP()
	if ip == "" {
		return nil
	}
	return map[string]string{HostGatewayLabel: ip}
}

// extraHostLines are the lines BuildKit added to a hosts file it generated
// for a step (the build's --add-host entries), without its own loopback
// lines.
func extraHostLines(hosts []byte) []string {
	var lines []string
	for _, l := range strings.Split(string(hosts), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if (f[0] == "127.0.0.1" || f[0] == "::1") && f[1] == "localhost" {
			continue
		}
		lines = append(lines, f[0]+"\t"+strings.Join(f[1:], " "))
	}
	return lines
}
