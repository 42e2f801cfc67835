package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/containerd/containerd/v2/pkg/oci"
	resourcestypes "github.com/moby/buildkit/executor/resources/types"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/network"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/etcfiles"
)

// networkProviders are the network modes RUN steps run under, for the
// worker's executor:
//   - the default (pb.NetMode_UNSET, RUN --network=default): a network
//     namespace from cfg.Sandboxes, on berth's default bridge as a
//     container is (NAT out, the host's resolver); an empty namespace
//     when the builder has no Sandboxes;
//   - host (entitlement network.host): the host's stack;
//   - none: an empty namespace with its loopback.
//
// In every mode the step's /etc/hosts and /etc/resolv.conf are those a
// container in that mode gets (internal/etcfiles), with the build's
// --add-host entries. It also removes what an earlier engine left: the
// steps' files under <exec-root>/net and, through SandboxCleaner, their
// sandboxes. The worker closes the providers.
func (b *Builder) networkProviders() (map[pb.NetMode]network.Provider, error) {
	dir := filepath.Join(b.cfg.ExecRoot, "net")
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("remove the build network files of an earlier engine: %w", err)
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, err
	}
	if c, ok := b.cfg.Sandboxes.(SandboxCleaner); ok {
		if err := c.RemoveSandboxes(context.Background()); err != nil {
			b.log.Warn("remove the build sandboxes of an earlier engine", "err", err)
		}
	}
	files := &etcWriter{dir: dir}
	if hosts, ok := b.cfg.Sandboxes.(SandboxHosts); ok {
		files.sandboxHosts = hosts
	}
	var sandbox network.Provider = &plainProvider{files: files, mode: pb.NetMode_NONE}
	if b.cfg.Sandboxes != nil {
		sandbox = &sandboxProvider{sandboxes: b.cfg.Sandboxes, files: files}
	}
	return map[pb.NetMode]network.Provider{
		pb.NetMode_UNSET: sandbox,
		pb.NetMode_HOST:  &plainProvider{files: files, mode: pb.NetMode_HOST},
		pb.NetMode_NONE:  &plainProvider{files: files, mode: pb.NetMode_NONE},
	}, nil
}

// sandboxProvider gives each step a namespace of its own from Sandboxes,
// on the default bridge or on the user network its hostname stands for
// (see stepNetworks).
type sandboxProvider struct {
	sandboxes Sandboxes
	files     *etcWriter
}

func (p *sandboxProvider) New(ctx context.Context, hostname string, _ network.NamespaceOptions) (network.Namespace, error) {
	id := identity.NewID()
	newSandbox := p.sandboxes.NewSandbox
	if netID, ok := stepNetworks.Load(hostname); ok {
		if ns, ok := p.sandboxes.(NetworkSandboxes); ok {
			newSandbox = func(ctx context.Context, id, hostname string) (string, func() error, error) {
				return ns.NewSandboxOn(ctx, netID.(string), id, hostname)
			}
		}
	}
	nsPath, release, err := newSandbox(ctx, id, hostname)
	if err != nil {
		return nil, fmt.Errorf("create the build step's network: %w", err)
	}
	return &namespace{id: id, mode: pb.NetMode_UNSET, nsPath: nsPath, release: release, files: p.files}, nil
}

func (p *sandboxProvider) Close() error { return nil }

// plainProvider is the host's stack (pb.NetMode_HOST) or a new empty
// namespace (pb.NetMode_NONE), which runc creates.
type plainProvider struct {
	files *etcWriter
	mode  pb.NetMode
}

func (p *plainProvider) New(context.Context, string, network.NamespaceOptions) (network.Namespace, error) {
	return &namespace{id: identity.NewID(), mode: p.mode, files: p.files}, nil
}

func (p *plainProvider) Close() error { return nil }

// namespace is one step's network.
type namespace struct {
	id      string
	mode    pb.NetMode
	nsPath  string // the sandbox's namespace; "" for host and none
	release func() error
	files   *etcWriter

	once sync.Once
	err  error
}

// Set puts the step in its namespace and points its /etc/hosts and
// /etc/resolv.conf at the files a container gets.
func (n *namespace) Set(s *specs.Spec) error {
	switch {
	case n.mode == pb.NetMode_HOST:
		if err := oci.WithHostNamespace(specs.NetworkNamespace)(context.Background(), nil, nil, s); err != nil {
			return err
		}
	case n.nsPath != "":
		if err := oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: n.nsPath})(context.Background(), nil, nil, s); err != nil {
			return err
		}
	}
	return n.files.write(n, s)
}

func (n *namespace) Close() error {
	n.once.Do(func() {
		n.err = errors.Join(n.files.remove(n.id), func() error {
			if n.release == nil {
				return nil
			}
			return n.release()
		}())
	})
	return n.err
}

func (n *namespace) Sample() (*resourcestypes.NetworkSample, error) { return nil, nil }

// etcWriter writes the steps' /etc files, <dir>/<id>/{hosts,resolv.conf}.
type etcWriter struct {
	dir          string
	sandboxHosts SandboxHosts // nil: the sandbox's own addresses are not named
}

// write generates n's /etc/hosts and /etc/resolv.conf as a container in
// n's mode gets them, keeping the entries BuildKit added to its own hosts
// file (--add-host), and bind-mounts them in s in place of BuildKit's.
func (w *etcWriter) write(n *namespace, s *specs.Spec) error {
	var hostsMount, resolvMount *specs.Mount
	for i := range s.Mounts {
		switch s.Mounts[i].Destination {
		case "/etc/hosts":
			hostsMount = &s.Mounts[i]
		case "/etc/resolv.conf":
			resolvMount = &s.Mounts[i]
		}
	}
	var extra []string
	if hostsMount != nil {
		data, err := os.ReadFile(hostsMount.Source)
		if err != nil {
			return fmt.Errorf("read the build step's hosts file: %w", err)
		}
		extra = extraHostLines(data)
	}
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read host resolv.conf: %w", err)
	}
	host := etcfiles.Host{ResolvConf: etcfiles.ParseResolvConf(hostResolv)}
	p := etcfiles.Params{Hostname: s.Hostname, Hosts: extra}
	switch {
	case n.mode == pb.NetMode_HOST:
		p.HostNetwork = true
		if hosts, err := os.ReadFile("/etc/hosts"); err == nil {
			host.Hosts = hostsWith(hosts, extra)
		}
	case n.nsPath != "" && w.sandboxHosts != nil:
		own, dns := w.sandboxHosts.SandboxHosts(n.id, s.Hostname)
		p.Hosts = append(p.Hosts, own...)
		p.EmbeddedDNS = dns
	}
	files := etcfiles.Generate(host, p)
	dir := filepath.Join(w.dir, n.id)
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return err
	}
	for _, f := range []struct {
		m    *specs.Mount
		name string
		data []byte
	}{{hostsMount, "hosts", files.Hosts}, {resolvMount, "resolv.conf", files.ResolvConf}} {
		if f.m == nil {
			continue
		}
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return err
		}
		f.m.Source = path
	}
	return nil
}

func (w *etcWriter) remove(id string) error {
	return os.RemoveAll(filepath.Join(w.dir, id))
}

// hostsWith is the host's hosts file followed by the build's --add-host
// entries: what --network host steps see.
func hostsWith(hosts []byte, extra []string) []byte {
	if len(extra) == 0 {
		return hosts
	}
	out := append([]byte(nil), hosts...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	for _, l := range extra {
		out = append(out, l+"\n"...)
	}
	return out
}
