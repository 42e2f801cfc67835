package build

import (
	"net/http"

	"github.com/containerd/containerd/v2/core/remotes/docker"

	"github.com/berth-project/berth/internal/registry"
)

// registryHosts is BuildKit's view of a registry host: first berth's local
// images (read-only, pull and resolve), then the registry itself, reached
// as berth's pulls reach it (insecure registries, certs.d).
func (b *Builder) registryHosts(host string) ([]docker.RegistryHost, error) {
	remote := host
	if host == "docker.io" {
		remote = "registry-1.docker.io"
	}
	hosts := b.cfg.Registries
	if hosts == nil {
		var err error
		if hosts, err = registry.NewHosts(nil, ""); err != nil {
			return nil, err
		}
	}
	ep, err := hosts.Endpoint(remote)
	if err != nil {
		return nil, err
	}
	real := docker.RegistryHost{
		Client:       &http.Client{Transport: ep.Transport()},
		Host:         remote,
		Scheme:       "https",
		Path:         "/v2",
		Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve | docker.HostCapabilityPush,
	}
	if b.mirror == nil {
		return []docker.RegistryHost{real}, nil
	}
	local := b.mirror.registryHost(host, ep.Transport())
	return []docker.RegistryHost{local, real}, nil
}
