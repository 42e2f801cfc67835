package build

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
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

// NetworkSandboxes is the optional part of Sandboxes that puts a build's
// RUN steps on a user-defined network, as the classic builder's
// networkmode=<network> (docker build --network <network> with
// DOCKER_BUILDKIT=0, Compose's build.network) does.
type NetworkSandboxes interface {
	// BuildNetwork resolves a network name or ID to the ID of a network
	// build steps can join; ErrNotFound for none.
	BuildNetwork(ref string) (id string, err error)
	// NewSandboxOn is NewSandbox on network netID instead of the
	// default bridge.
	NewSandboxOn(ctx context.Context, netID, id, hostname string) (nsPath string, release func() error, err error)
}

// stepNetworks carries a build's user network to its RUN steps. BuildKit
// hands a network provider nothing of the build but the step's hostname,
// so the build's hostname is the network's short ID (a RUN on a user
// network sees a 12-hex hostname, as under the classic builder) and
// this maps it back: hostname -> network ID.
var stepNetworks sync.Map

// networkModeAttrs are the frontend attributes and entitlements that run
// a build's RUN steps under the classic POST /build's networkmode: "",
// "default" and "bridge" are the default bridge, "host" and "none" as
// their names say, and any other name or ID a user-defined network (where
// the engine supports it). container:<ref> is refused, as dockerd does.
func (b *Builder) networkModeAttrs(mode string) (map[string]string, []string, error) {
	switch {
	case mode == "" || mode == "default" || mode == "bridge":
		return nil, nil, nil
	case mode == "host":
		return map[string]string{"force-network-mode": "host"}, []string{"network.host"}, nil
	case mode == "none":
		return map[string]string{"force-network-mode": "none"}, nil, nil
	case strings.HasPrefix(mode, "container:"):
		return nil, nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("network mode %q not supported by buildkit", mode))
	}
	ns, ok := b.cfg.Sandboxes.(NetworkSandboxes)
	if !ok {
		return nil, nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("network mode %q not supported by buildkit", mode))
	}
	id, err := ns.BuildNetwork(mode)
	if err != nil {
		return nil, nil, err
	}
	hostname := id
	if len(hostname) > 12 {
		hostname = hostname[:12]
	}
	stepNetworks.Store(hostname, id)
	return map[string]string{"hostname": hostname}, nil, nil
}
