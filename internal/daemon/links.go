package daemon

import (
	"cmp"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"

	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/network"
)

// parseLink reads one HostConfig.Links entry as docker does: "name:alias",
// "name" (the alias is the name) or the "/name:/self/alias" form docker's
// inspect shows, which clients send back when they copy a container.
func parseLink(link string) (name, alias string) {
	name, alias, ok := strings.Cut(link, ":")
	if !ok {
		alias = name
	}
	if strings.HasPrefix(name, "/") {
		_, alias = path.Split(alias)
	}
	return strings.TrimPrefix(name, "/"), alias
}

// linkedContainer is what a legacy link shows the linking container of the
// linked one.
type linkedContainer struct {
	name  string     // docker's link name: "/<linking container>/<alias>"
	ip    netip.Addr // the linked container's address on the default bridge
	env   []string   // its Config.Env
	ports networktypes.PortSet
}

// linkEnv returns the variables docker's legacy links set in the linking
// container (moby's daemon/links): for each link, <ALIAS>_PORT for the
// first exposed port (TCP ports first, then by number), <ALIAS>_PORT_<p>_<PROTO>
// with its _ADDR, _PORT and _PROTO for every port, _START/_END pairs for
// runs of consecutive ports, <ALIAS>_NAME, and <ALIAS>_ENV_<VAR> for the
// linked container's environment except HOME and PATH.
func linkEnv(links []linkedContainer) []string {
	var env []string
	for _, l := range links {
		env = append(env, l.vars()...)
	}
	return env
}

func (l linkedContainer) vars() []string {
	alias := strings.ReplaceAll(strings.ToUpper(path.Base(l.name)), "-", "_")
	ip := l.ip.String()
	ports := make([]networktypes.Port, 0, len(l.ports))
	for p := range l.ports {
		ports = append(ports, p)
	}
	slices.SortFunc(ports, tcpFirst)

	var env []string
	url := func(p networktypes.Port) string { return fmt.Sprintf("%s://%s:%d", p.Proto(), ip, p.Num()) }
	prefix := func(p networktypes.Port) string {
		return fmt.Sprintf("%s_PORT_%d_%s", alias, p.Num(), strings.ToUpper(string(p.Proto())))
	}
	var start, end networktypes.Port
	for i, p := range ports {
		if i == 0 {
			start, end = p, p
			env = append(env, alias+"_PORT="+url(p))
		}
		env = append(env,
			prefix(p)+"="+url(p),
			prefix(p)+"_ADDR="+ip,
			fmt.Sprintf("%s_PORT=%d", prefix(p), p.Num()),
			prefix(p)+"_PROTO="+string(p.Proto()),
		)
		// a run of consecutive ports of one protocol is also announced as
		// a range, once its last port is reached
		if p.Num() == end.Num()+1 && p.Proto() == start.Proto() {
			end = p
			if i < len(ports)-1 {
				continue
			}
		}
		if end != start {
			env = append(env,
				prefix(start)+"_START="+url(start),
				fmt.Sprintf("%s_PORT_START=%d", prefix(start), start.Num()),
				prefix(start)+"_END="+url(end),
				fmt.Sprintf("%s_PORT_END=%d", prefix(start), end.Num()),
			)
		}
		start, end = p, p
	}
	env = append(env, alias+"_NAME="+l.name)
	for _, kv := range l.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "HOME" || k == "PATH" {
			continue // set by image builds, meaningless in another container
		}
		env = append(env, alias+"_ENV_"+k+"="+v)
	}
	return env
}

// tcpFirst orders ports as docker's links do: TCP before the other
// protocols, then by protocol name and number.
func tcpFirst(a, b networktypes.Port) int {
	if a.Proto() != b.Proto() {
		if a.Proto() == networktypes.TCP {
			return -1
		}
		if b.Proto() == networktypes.TCP {
			return 1
		}
		return cmp.Compare(a.Proto(), b.Proto())
	}
	return cmp.Compare(a.Num(), b.Num())
}

// linkedEnv is the legacy-link environment of c: like docker, only a
// container on the default bridge gets it, and every container it links to
// must be running there. c is locked; the linked containers are not (their
// Config does not change after create).
func (d *Daemon) linkedEnv(c *container.Container) ([]string, error) {
	if len(legacyLinks(c.HostConfig)) == 0 {
		return nil, nil
	}
	d.netMu.Lock()
	m := d.net
	d.netMu.Unlock()
	if m == nil {
		return nil, nil
	}
	if _, err := m.Endpoint(network.DefaultNetwork, c.ID); err != nil {
		return nil, nil
	}
	var links []linkedContainer
	for _, link := range legacyLinks(c.HostConfig) {
		name, alias := parseLink(link)
		other, err := d.lookup(name)
		if err != nil {
			continue // removed since: docker's link graph forgets it too
		}
		linkName := path.Join(c.Name, alias)
		if d.task(other.ID) == nil {
			return nil, fmt.Errorf("Cannot link to a non running container: %s AS %s", other.Name, linkName)
		}
		ep, err := m.Endpoint(network.DefaultNetwork, other.ID)
		if err != nil {
			return nil, fmt.Errorf("container %s not attached to default bridge network", other.ID)
		}
		links = append(links, linkedContainer{name: linkName, ip: ep.IPAddress, env: other.Config.Env, ports: other.Config.ExposedPorts})
	}
	return linkEnv(links), nil
}

// legacyLinks are the links of hc that are docker's legacy links: on a
// user-defined network --link is an endpoint option instead (a name only
// the linking container resolves), and docker registers no link.
func legacyLinks(hc *containertypes.HostConfig) []string {
	if networks := endpointNetworks(hc, nil); len(networks) > 0 && networks[0] != network.DefaultNetwork {
		return nil
	}
	return hc.Links
}

// inspectLinks is HostConfig.Links as docker's inspect shows them,
// "/<linked>:/<self>/<alias>", leaving out the containers that are gone.
func (d *Daemon) inspectLinks(self string, hc *containertypes.HostConfig) []string {
	var out []string
	for _, link := range legacyLinks(hc) {
		name, alias := parseLink(link)
		other, err := d.lookup(name)
		if err != nil {
			continue
		}
		out = append(out, other.Name+":"+path.Join(self, alias))
	}
	return out
}
