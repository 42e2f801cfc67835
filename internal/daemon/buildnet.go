package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/network/dns"
)

// buildSandboxPrefix starts the names of build steps' sandboxes: their
// network namespaces (<exec-root>/netns/build-<id>) and the container IDs
// of their endpoints. No container ID holds a '-', so the names never
// clash with a container's, and RemoveSandboxes finds them after a crash.
const buildSandboxPrefix = "build-"

// NewSandbox gives a build step (BuildKit's RUN) a network namespace
// connected to the default bridge as a container's is: an address, NAT
// out, the host's resolver. release removes the endpoint and the
// namespace; the step's processes are gone by then. Build sandboxes are
// not containers: they log no network events. It implements
// build.Sandboxes.
func (d *Daemon) NewSandbox(ctx context.Context, id, hostname string) (nsPath string, release func() error, err error) {
	return d.NewSandboxOn(ctx, network.DefaultNetwork, id, hostname)
}

// NewSandboxOn is NewSandbox on network netRef (a bridge network: the
// default one or a user-defined one, whose embedded DNS the step then
// resolves names with). It implements build.NetworkSandboxes.
func (d *Daemon) NewSandboxOn(ctx context.Context, netRef, id, hostname string) (nsPath string, release func() error, err error) {
	m, err := d.buildNetworks(ctx)
	if err != nil {
		return "", nil, err
	}
	sid := buildSandboxPrefix + id
	began := time.Now()
	path, err := m.NewNetNS(sid)
	if err != nil {
		return "", nil, fmt.Errorf("create network namespace: %w", err)
	}
	if _, err := m.Connect(ctx, netRef, network.EndpointOptions{ContainerID: sid, Name: sid, NetNSPath: path}); err != nil {
		_ = releaseSandbox(context.WithoutCancel(ctx), m, sid, path)
		return "", nil, err
	}
	d.log.Debug("build sandbox", "id", sid, "network", netRef, "hostname", hostname, "took", time.Since(began))
	return path, func() error { return releaseSandbox(context.Background(), m, sid, path) }, nil
}

// BuildNetwork resolves the network a classic build's networkmode names:
// a bridge network, whose ID it returns. It implements
// build.NetworkSandboxes.
func (d *Daemon) BuildNetwork(ref string) (string, error) {
	m, err := d.networks(context.Background())
	if err != nil {
		return "", err
	}
	n, err := m.Get(ref)
	if err != nil {
		return "", err
	}
	if n.Driver != network.DriverBridge {
		return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("network mode %q not supported by buildkit", ref))
	}
	return n.ID, nil
}

// releaseSandbox frees a sandbox's endpoints and removes its namespace,
// whose destruction deletes the veths. Idempotent.
func releaseSandbox(ctx context.Context, m Networks, sid, path string) error {
	return errors.Join(m.ReleaseAll(ctx, sid), network.RemoveNetNS(path))
}

// RemoveSandboxes removes the build sandboxes an earlier berthd left
// behind when it died mid-build: their endpoints (addresses, veths) and
// namespaces. Call it before builds start: at boot, and when the builder
// starts. It implements build.SandboxCleaner.
func (d *Daemon) RemoveSandboxes(ctx context.Context) error {
	entries, err := os.ReadDir(filepath.Join(d.cfg.ExecRoot, "netns"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var errs []error
	var m Networks
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), buildSandboxPrefix) {
			continue
		}
		if m == nil {
			if m, err = d.buildNetworks(ctx); err != nil {
				return err
			}
		}
		d.log.Info("removing a build sandbox left by an earlier berthd", "id", e.Name())
		errs = append(errs, releaseSandbox(ctx, m, e.Name(), d.netnsPath(e.Name())))
	}
	return errors.Join(errs...)
}

// SandboxHosts are the /etc/hosts lines naming a build sandbox's own
// addresses, and the embedded resolver's address when its network has one.
// It implements build.SandboxHosts.
func (d *Daemon) SandboxHosts(id, hostname string) ([]string, netip.Addr) {
	sid := buildSandboxPrefix + id
	var embedded netip.Addr
	d.netMu.Lock()
	m := d.net
	d.netMu.Unlock()
	if m != nil {
		if eps := m.Endpoints(sid); len(eps) > 0 && eps[0].EmbeddedDNS {
			embedded = dns.Address
		}
	}
	return d.hostsEntries(sid, hostname), embedded
}

// HostGatewayIP is the address --add-host name:host-gateway maps to in a
// build. It implements build.HostGateway.
func (d *Daemon) HostGatewayIP() string { return d.hostGateway() }

// buildNetworks is the network manager without the events layer: a build
// step's network comes and goes without docker's network events, as in
// dockerd.
func (d *Daemon) buildNetworks(ctx context.Context) (Networks, error) {
	m, err := d.networks(ctx)
	if err != nil {
		return nil, err
	}
	if e, ok := m.(*eventNetworks); ok {
		return e.Networks, nil
	}
	return m, nil
}

// BuildSandboxes hands the daemon's build sandboxes to a builder made
// before the daemon (the builder is one of its Parts): berthd gives it to
// build.Config.Sandboxes and calls Set once New returned. Builds start
// after that; until then every method fails or answers nothing.
type BuildSandboxes struct{ d atomic.Pointer[Daemon] }

// Set binds s to the daemon d.
func (s *BuildSandboxes) Set(d *Daemon) { s.d.Store(d) }

var errNoDaemon = errdefs.ErrUnavailable.WithMessage("the daemon is not started")

// NewSandbox is Daemon.NewSandbox.
func (s *BuildSandboxes) NewSandbox(ctx context.Context, id, hostname string) (string, func() error, error) {
	d := s.d.Load()
	if d == nil {
		return "", nil, errNoDaemon
	}
	return d.NewSandbox(ctx, id, hostname)
}

// RemoveSandboxes is Daemon.RemoveSandboxes.
func (s *BuildSandboxes) RemoveSandboxes(ctx context.Context) error {
	d := s.d.Load()
	if d == nil {
		return errNoDaemon
	}
	return d.RemoveSandboxes(ctx)
}

// SandboxHosts is Daemon.SandboxHosts.
func (s *BuildSandboxes) SandboxHosts(id, hostname string) ([]string, netip.Addr) {
	d := s.d.Load()
	if d == nil {
		return nil, netip.Addr{}
	}
	return d.SandboxHosts(id, hostname)
}

// NewSandboxOn is Daemon.NewSandboxOn.
func (s *BuildSandboxes) NewSandboxOn(ctx context.Context, netRef, id, hostname string) (string, func() error, error) {
	d := s.d.Load()
	if d == nil {
		return "", nil, errNoDaemon
	}
	return d.NewSandboxOn(ctx, netRef, id, hostname)
}

// BuildNetwork is Daemon.BuildNetwork.
func (s *BuildSandboxes) BuildNetwork(ref string) (string, error) {
	d := s.d.Load()
	if d == nil {
		return "", errNoDaemon
	}
	return d.BuildNetwork(ref)
}

// HostGatewayIP is Daemon.HostGatewayIP.
func (s *BuildSandboxes) HostGatewayIP() string {
	d := s.d.Load()
	if d == nil {
		return ""
	}
	return d.HostGatewayIP()
}
