//go:build linux

package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// endpoint is the part of inspect's NetworkSettings.Networks[name] the
// tests check, as JSON shows it.
type endpoint struct {
	IPAMConfig *struct {
		IPv4Address string
	}
	Links       []string
	Aliases     []string
	DriverOpts  map[string]string
	NetworkID   string
	EndpointID  string
	Gateway     string
	IPAddress   string
	IPPrefixLen int
	MacAddress  string
	DNSNames    []string
}

// endpointOf decodes inspect's entry for network net, failing t when the
// container has none.
func endpointOf(t *testing.T, c cli, name, net string) endpoint {
	t.Helper()
	out := c.ok(t, "inspect", "-f", fmt.Sprintf("{{json (index .NetworkSettings.Networks %q)}}", net), name)
	var ep endpoint
	if err := json.Unmarshal([]byte(out), &ep); err != nil || out == "null" {
		t.Fatalf("NetworkSettings.Networks[%q] of %s = %s (%v)", net, name, out, err)
	}
	return ep
}

// networkNames lists the keys of inspect's NetworkSettings.Networks.
func networkNames(t *testing.T, c cli, name string) string {
	t.Helper()
	return c.ok(t, "inspect", "-f", `{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}`, name)
}

// hostAddr is the n-th address of a /24 subnet "a.b.c.0/24".
func hostAddr(subnet string, n int) string {
	p := netip.MustParsePrefix(subnet)
	a := p.Addr().As4()
	a[3] = byte(n)
	return netip.AddrFrom4(a).String()
}

func TestInspectHostConfigDefaults(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		plain, withOpts := unique("hc"), unique("hcopt")
		rmOnCleanup(t, d, plain)
		rmOnCleanup(t, d, withOpts)
		c.ok(t, "create", "--name", plain, "busybox", "true")
		c.ok(t, "create", "--name", withOpts, "--log-opt", "max-size=10m", "--log-opt", "max-file=3", "busybox", "true")
		for _, tt := range []struct{ name, tmpl, want string }{
			{plain, "{{.HostConfig.LogConfig.Type}}", "json-file"},
			{plain, "{{json .HostConfig.LogConfig}}", `{"Type":"json-file","Config":{"max-file":"5","max-size":"20m"}}`}, // berth rotates by default
			{withOpts, "{{json .HostConfig.LogConfig.Config}}", `{"max-file":"3","max-size":"10m"}`},
			{plain, "{{.HostConfig.Runtime}}", d.Berth(t, "info", "-f", "{{.DefaultRuntime}}").Success(t).Out()}, // runc, or crun where installed
		} {
			if got := c.ok(t, "inspect", "-f", tt.tmpl, tt.name); got != tt.want {
				t.Errorf("inspect -f %q = %q, want %q", tt.tmpl, got, tt.want)
			}
		}
	})
}

func TestInspectEndpointsUserNetwork(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		subnet := testSubnet()
		dev := unique("net")
		c.ok(t, "network", "create", "--subnet", subnet, dev)
		t.Cleanup(func() { d.Berth(t, "network", "rm", dev) })
		netID := c.ok(t, "network", "inspect", "-f", "{{.Id}}", dev)
		other := unique("other")
		rmOnCleanup(t, d, other)
		c.ok(t, "run", "-d", "--name", other, "--network", dev, "busybox", "sleep", "300")

		name, ip, mac := unique("ep"), hostAddr(subnet, 9), "02:42:0a:99:00:09"
		rmOnCleanup(t, d, name)
		id := c.ok(t, "create", "--name", name, "--network", dev, "--network-alias", "api", "--ip", ip,
			"--mac-address", mac, "--link", other+":db", "busybox", "sh", "-c", "cat /sys/class/net/eth0/address; exec sleep 300")

		// created: the network shows, with what was asked and no addresses
		if got := networkNames(t, c, name); got != dev {
			t.Errorf("networks of a created container: %q, want %q", got, dev)
		}
		ep := endpointOf(t, c, name, dev)
		if ep.IPAMConfig == nil || ep.IPAMConfig.IPv4Address != ip || !slices.Equal(ep.Aliases, []string{"api"}) ||
			!slices.Equal(ep.Links, []string{other + ":db"}) || ep.MacAddress != mac {
			t.Errorf("created: asked settings %+v, want IPAMConfig %s, Aliases [api], Links [%s:db], MacAddress %s", ep, ip, other, mac)
		}
		if ep.NetworkID != "" || ep.EndpointID != "" || ep.IPAddress != "" || ep.Gateway != "" || ep.DNSNames != nil {
			t.Errorf("created: operational data before start: %+v", ep)
		}
		// on a user-defined network --link is the endpoint's, not a legacy link
		if got := c.ok(t, "inspect", "-f", "{{json .HostConfig.Links}}", name); got != "null" {
			t.Errorf("HostConfig.Links on a user-defined network = %s, want null", got)
		}

		// running: the endpoint's data besides what was asked
		c.ok(t, "start", name)
		ep = endpointOf(t, c, name, dev)
		if ep.NetworkID != netID || !fullID.MatchString(ep.EndpointID) || ep.Gateway != hostAddr(subnet, 1) ||
			ep.IPAddress != ip || ep.IPPrefixLen != 24 || ep.MacAddress != mac {
			t.Errorf("running: %+v, want network %s, an endpoint id, gateway %s, address %s/24, MAC %s", ep, netID, hostAddr(subnet, 1), ip, mac)
		}
		if want := []string{name, "api", id[:12]}; !slices.Equal(ep.DNSNames, want) {
			t.Errorf("running: DNSNames %q, want %q", ep.DNSNames, want)
		}
		if ep.IPAMConfig == nil || ep.IPAMConfig.IPv4Address != ip || !slices.Equal(ep.Aliases, []string{"api"}) {
			t.Errorf("running: asked settings lost: %+v", ep)
		}
		// the MAC is the interface's inside the container, and network inspect's
		waitFor(t, 10*time.Second, "the container to print eth0's MAC", func() bool { return c.ok(t, "logs", name) != "" })
		if got := c.ok(t, "logs", name); got != mac {
			t.Errorf("eth0's MAC inside the container = %q, want %q", got, mac)
		}
		tmpl := fmt.Sprintf(`{{with index .Containers %q}}{{.MacAddress}} {{.IPv4Address}}{{end}}`, id)
		if got := c.ok(t, "network", "inspect", "-f", tmpl, dev); got != mac+" "+ip+"/24" {
			t.Errorf("network inspect's endpoint = %q, want %q", got, mac+" "+ip+"/24")
		}

		// stopped: the network id and names stay, the addresses go
		c.ok(t, "kill", name)
		c.ok(t, "wait", name)
		ep = endpointOf(t, c, name, dev)
		if ep.NetworkID != netID || ep.EndpointID != "" || ep.IPAddress != "" || ep.MacAddress != "" || len(ep.DNSNames) == 0 {
			t.Errorf("stopped: %+v, want the network id and DNS names without addresses", ep)
		}
	})
}

func TestInspectEndpointsDefaultBridge(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		created, none := unique("cr"), unique("none")
		rmOnCleanup(t, d, created)
		rmOnCleanup(t, d, none)
		c.ok(t, "create", "--name", created, "busybox", "true")
		c.ok(t, "create", "--name", none, "--network", "none", "busybox", "true")
		if got := networkNames(t, c, created); got != "bridge" {
			t.Errorf("networks of a created container = %q, want bridge", got)
		}
		if got := networkNames(t, c, none); got != "none" {
			t.Errorf("networks of a created --network none container = %q, want none", got)
		}
		if ep := endpointOf(t, c, created, "bridge"); ep.IPAddress != "" || ep.NetworkID != "" {
			t.Errorf("created on bridge: %+v, want no address yet", ep)
		}
		if got := c.ok(t, "ps", "-a", "--filter", "name="+created, "--format", "{{.Networks}}"); got != "bridge" {
			t.Errorf("ps NETWORKS of a created container = %q, want bridge", got)
		}

		name, mac := unique("mac"), "02:42:ac:99:00:07"
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "--mac-address", mac, "busybox", "sh", "-c", "cat /sys/class/net/eth0/address; exec sleep 300")
		waitFor(t, 10*time.Second, "the container to print eth0's MAC", func() bool { return c.ok(t, "logs", name) != "" })
		if got := c.ok(t, "logs", name); got != mac {
			t.Errorf("--mac-address %s: eth0 inside is %q", mac, got)
		}
		ep := endpointOf(t, c, name, "bridge")
		bridgeID := c.ok(t, "network", "inspect", "-f", "{{.Id}}", "bridge")
		if ep.MacAddress != mac || ep.NetworkID != bridgeID || ep.IPAddress == "" || ep.IPAMConfig != nil || ep.DNSNames != nil {
			t.Errorf("running on bridge: %+v, want MAC %s on network %s, an address, no IPAMConfig and no DNS names", ep, mac, bridgeID)
		}
		// the top-level field API 1.50 (docker 28's CLI) still has
		if c.name == "docker" {
			if got := c.ok(t, "inspect", "-f", "{{.NetworkSettings.MacAddress}}", name); got != mac {
				t.Errorf("NetworkSettings.MacAddress = %q, want %q", got, mac)
			}
		}
		c.run(t, "run", "--rm", "--mac-address", "02:42:zz", "busybox", "true").Fails(t, 125, "02:42:zz is not a valid mac address")
	})
}

func TestInspectAuxAddresses(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		subnet := testSubnet()
		name := unique("net")
		c.ok(t, "network", "create", "--subnet", subnet, "--aux-address", "host1="+hostAddr(subnet, 2),
			"--aux-address", "host2="+hostAddr(subnet, 3), name)
		t.Cleanup(func() { d.Berth(t, "network", "rm", name) })
		want := fmt.Sprintf(`{"host1":%q,"host2":%q}`, hostAddr(subnet, 2), hostAddr(subnet, 3))
		if got := c.ok(t, "network", "inspect", "-f", "{{json (index .IPAM.Config 0).AuxiliaryAddresses}}", name); got != want {
			t.Errorf("AuxiliaryAddresses = %s, want %s", got, want)
		}
		// containers never get them: the first free address is the 4th
		out := c.ok(t, "run", "--rm", "--network", name, "busybox", "ip", "-4", "-o", "addr", "show", "eth0")
		if !strings.Contains(out, " "+hostAddr(subnet, 4)+"/24 ") {
			t.Errorf("first container's address: %s, want %s (past the auxiliary addresses)", out, hostAddr(subnet, 4))
		}
		c.run(t, "run", "--rm", "--network", name, "--ip", hostAddr(subnet, 2), "busybox", "true").Fails(t, 125, "Address already in use")
	})

	// the daemon's own check, which both CLIs make before asking
	subnet := testSubnet()
	body := fmt.Sprintf(`{"Name":%q,"IPAM":{"Config":[{"Subnet":%q,"AuxiliaryAddresses":{"far":"10.1.1.1"}}]}}`, unique("net"), subnet)
	status, _, resp := apiCall(t, d, http.MethodPost, "/networks/create", body)
	if want := fmt.Sprintf("auxiliary address: (far:10.1.1.1) must belong to the master pool: %s", subnet); status != http.StatusForbidden || errorMessage(t, resp) != want {
		t.Errorf("aux address outside the subnet: %d %s, want 403 %q", status, resp, want)
	}
}

func TestLinkEnvironment(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		web := unique("web")
		rmOnCleanup(t, d, web)
		c.ok(t, "run", "-d", "--name", web, "-e", "GREETING=hello there", "--expose", "80", "--expose", "8080/udp", "busybox", "sleep", "300")
		ip := c.ok(t, "inspect", "-f", "{{.NetworkSettings.Networks.bridge.IPAddress}}", web)

		self := unique("linker")
		rmOnCleanup(t, d, self)
		env := lines(c.ok(t, "run", "--name", self, "--link", web+":web-app", "busybox", "env"))
		for _, want := range []string{
			"WEB_APP_NAME=/" + self + "/web-app",
			"WEB_APP_PORT=tcp://" + ip + ":80",
			"WEB_APP_PORT_80_TCP=tcp://" + ip + ":80",
			"WEB_APP_PORT_80_TCP_ADDR=" + ip,
			"WEB_APP_PORT_80_TCP_PORT=80",
			"WEB_APP_PORT_80_TCP_PROTO=tcp",
			"WEB_APP_PORT_8080_UDP=udp://" + ip + ":8080",
			"WEB_APP_PORT_8080_UDP_PROTO=udp",
			"WEB_APP_ENV_GREETING=hello there",
		} {
			if !contains(env, want) {
				t.Errorf("env of a container linked to %s lacks %q:\n%s", web, want, strings.Join(env, "\n"))
			}
		}
		for _, v := range env {
			if strings.HasPrefix(v, "WEB_APP_ENV_PATH=") || strings.HasPrefix(v, "WEB_APP_ENV_HOME=") {
				t.Errorf("the linked container's %s leaked into the link variables", v)
			}
		}
		// inspect names the link as docker's link graph does
		if got := c.ok(t, "inspect", "-f", "{{json .HostConfig.Links}}", self); got != fmt.Sprintf(`["/%s:/%s/web-app"]`, web, self) {
			t.Errorf("HostConfig.Links = %s", got)
		}

		// a link to a container that does not run stops the start
		stopped := unique("stopped")
		rmOnCleanup(t, d, stopped)
		c.ok(t, "create", "--name", stopped, "busybox", "true")
		c.run(t, "run", "--rm", "--link", stopped+":s", "busybox", "true").Fails(t, 125, "Cannot link to a non running container: /"+stopped+" AS /")
	})
}

func TestInspectAuxAddressesAfterRestart(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	c := cli{name: "berth", d: d}
	subnet := testSubnet()
	name := unique("net")
	c.ok(t, "network", "create", "--subnet", subnet, "--aux-address", "router="+hostAddr(subnet, 2), name)
	t.Cleanup(func() { d.Berth(t, "network", "rm", name) })
	d.Restart(t)
	if got := c.ok(t, "network", "inspect", "-f", "{{json (index .IPAM.Config 0).AuxiliaryAddresses}}", name); got != fmt.Sprintf(`{"router":%q}`, hostAddr(subnet, 2)) {
		t.Errorf("AuxiliaryAddresses after a restart = %s", got)
	}
	out := c.ok(t, "run", "--rm", "--network", name, "busybox", "ip", "-4", "-o", "addr", "show", "eth0")
	if !strings.Contains(out, " "+hostAddr(subnet, 3)+"/24 ") {
		t.Errorf("address after a restart: %s, want %s (the auxiliary address stays reserved)", out, hostAddr(subnet, 3))
	}
}

func TestInspectAliasesByAPIVersion(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	c := cli{name: "berth", d: d}
	dev := userNetwork(t, d, c)
	name := unique("al")
	rmOnCleanup(t, d, name)
	id := c.ok(t, "run", "-d", "--name", name, "--network", dev, "--network-alias", "api", "-h", "web.local", "busybox", "sleep", "300")
	for version, want := range map[string][]string{
		"1.44": {"api", id[:12], "web.local"}, // before 1.45 docker listed the short id and hostname too
		"1.50": {"api"},
	} {
		status, _, body := apiCall(t, d, http.MethodGet, "/v"+version+"/containers/"+name+"/json", "")
		var resp struct {
			NetworkSettings struct{ Networks map[string]endpoint }
		}
		if err := json.Unmarshal([]byte(body), &resp); err != nil || status != http.StatusOK {
			t.Fatalf("GET /v%s/containers/%s/json: %d %s", version, name, status, body)
		}
		if got := resp.NetworkSettings.Networks[dev].Aliases; !slices.Equal(got, want) {
			t.Errorf("API %s: Aliases = %q, want %q", version, got, want)
		}
	}
	// docker's CLI pinned to an old API version sees the same
	testutil.RequiresDockerCLI(t)
	cmd := d.DockerCmd("inspect", "-f", fmt.Sprintf(`{{json (index .NetworkSettings.Networks %q).Aliases}}`, dev), name)
	cmd.Env = append(cmd.Env, "DOCKER_API_VERSION=1.44")
	out, err := cmd.Output()
	if want := fmt.Sprintf(`["api",%q,"web.local"]`, id[:12]); err != nil || strings.TrimSpace(string(out)) != want {
		t.Errorf("DOCKER_API_VERSION=1.44 docker inspect: %s (%v), want %s", out, err, want)
	}
}

func TestContainerWideMacAddress(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	for version, mac := range map[string]string{"1.43": "02:42:ac:99:01:43", "1.50": "02:42:ac:99:01:50"} {
		name := unique("cwmac")
		rmOnCleanup(t, d, name)
		body := fmt.Sprintf(`{"Image":"busybox","Cmd":["cat","/sys/class/net/eth0/address"],"MacAddress":%q}`, mac)
		status, _, resp := apiCall(t, d, http.MethodPost, "/v"+version+"/containers/create?name="+name, body)
		if status != http.StatusCreated {
			t.Fatalf("API %s create with a container-wide MacAddress: %d %s", version, status, resp)
		}
		// from 1.44 on the field is deprecated: docker warns
		if deprecated := strings.Contains(resp, "container-wide MacAddress field is now deprecated"); deprecated != (version != "1.43") {
			t.Errorf("API %s create answer: %s", version, resp)
		}
		d.Berth(t, "start", "-a", name).Success(t)
		if got := d.Berth(t, "logs", name).Success(t).Out(); got != mac {
			t.Errorf("API %s container-wide MacAddress %s: eth0 inside is %q", version, mac, got)
		}
	}
}
