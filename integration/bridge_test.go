//go:build linux

package integration

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// testSubnet is a /24 inside 10.150.0.0-10.199.255.0: these addresses exist
// only on the bridges the test creates (test daemons' default bridges use
// 10.200 and up).
func testSubnet() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return fmt.Sprintf("10.%d.%d.0/24", 150+int(b[0])%50, b[1])
}

// userNetwork creates a user-defined network with c and removes it at cleanup.
func userNetwork(t *testing.T, d *testutil.Daemon, c cli, args ...string) string {
	t.Helper()
	name := unique("net")
	c.ok(t, append(append([]string{"network", "create"}, args...), "--subnet", testSubnet(), name)...)
	t.Cleanup(func() { d.Berth(t, "network", "rm", name) })
	return name
}

func TestUserNetworkNamesAndAliases(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		dev := userNetwork(t, d, c)
		search := unique("search")
		rmOnCleanup(t, d, search)
		c.ok(t, "run", "-d", "--name", search, "--network", dev, "busybox", "sleep", "300")

		// another container on the same network reaches it by name
		out := c.ok(t, "run", "--rm", "--network", dev, "busybox", "ping", "-c", "1", "-W", "2", search)
		if !strings.Contains(out, "1 packets received") {
			t.Errorf("ping %s by name: %s", search, out)
		}
		// resolv.conf points at the embedded DNS
		if out := c.ok(t, "run", "--rm", "--network", dev, "busybox", "cat", "/etc/resolv.conf"); !strings.Contains(out, "nameserver 127.0.0.11") {
			t.Errorf("resolv.conf on a user-defined network:\n%s", out)
		}

		// two containers sharing an alias: the name resolves to both
		alias := unique("es")
		var want []string
		for range 2 {
			name := unique("alias")
			rmOnCleanup(t, d, name)
			c.ok(t, "run", "-d", "--name", name, "--network", dev, "--network-alias", alias, "busybox", "sleep", "300")
			want = append(want, inspect(t, d, name, fmt.Sprintf("{{(index .NetworkSettings.Networks %q).IPAddress}}", dev)))
		}
		sort.Strings(want)
		out = c.ok(t, "run", "--rm", "--network", dev, "busybox", "nslookup", alias, "127.0.0.11")
		var got []string
		for _, l := range lines(out) {
			if ip, ok := strings.CutPrefix(l, "Address: "); ok {
				got = append(got, strings.TrimSpace(ip))
			}
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("nslookup %s = %v, want %v\n%s", alias, got, want, out)
		}

		// names do not resolve, and traffic does not pass, across networks
		other := userNetwork(t, d, c)
		ip := inspect(t, d, search, fmt.Sprintf("{{(index .NetworkSettings.Networks %q).IPAddress}}", dev))
		res := c.run(t, "run", "--rm", "--network", other, "busybox", "nslookup", search, "127.0.0.11")
		if res.ExitCode == 0 && strings.Contains(res.Stdout, ip) {
			t.Errorf("%s resolved from another network: %s", search, res)
		}
		if res := c.run(t, "run", "--rm", "--network", other, "busybox", "ping", "-c", "1", "-W", "1", ip); res.ExitCode == 0 {
			t.Errorf("ping across networks succeeded: %s", res)
		}
	})
}

func TestPublishedPort(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("web")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "--network", "bridge", "-p", "127.0.0.1::80", "busybox",
			"sh", "-c", "echo hello-"+name+" > /tmp/index.html && exec httpd -f -p 80 -h /tmp")
		port := c.ok(t, "inspect", "-f", `{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}`, name)
		ip := inspect(t, d, name, `{{.NetworkSettings.Networks.bridge.IPAddress}}`)
		if c.name == "docker" {
			// docker 28 speaks API 1.50, which still has the top-level fields
			if got := c.ok(t, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name); got != ip {
				t.Errorf("inspect -f {{.NetworkSettings.IPAddress}} = %q, want %s", got, ip)
			}
		}
		for _, url := range []string{"http://127.0.0.1:" + port + "/", "http://" + ip + "/"} {
			var body string
			waitFor(t, 5*time.Second, "GET "+url, func() bool {
				body = httpGet(url)
				return strings.Contains(body, "hello-"+name)
			})
		}
		if ps := c.ok(t, "ps", "--filter", "name="+name, "--format", "{{.Ports}}"); !strings.Contains(ps, "127.0.0.1:"+port+"->80/tcp") {
			t.Errorf("ps PORTS = %q, want 127.0.0.1:%s->80/tcp", ps, port)
		}
	})
}

func TestNetworkContainerMode(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("owner")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--name", name, "--network", "bridge", "busybox", "sleep", "300")
		ip := inspect(t, d, name, `{{.NetworkSettings.Networks.bridge.IPAddress}}`)
		out := c.ok(t, "run", "--rm", "--network", "container:"+name, "busybox", "ip", "-4", "-o", "addr", "show", "eth0")
		if !strings.Contains(out, ip+"/") {
			t.Errorf("container: mode sees %q, want the owner's address %s", out, ip)
		}
	})
}

// httpGet fetches url with a short timeout; "" on any error.
func httpGet(url string) string {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestNetworkCommands(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		subnet := testSubnet()
		name := unique("net")
		id := c.ok(t, "network", "create", "--subnet", subnet, "--label", "it=1", name)
		if !fullID.MatchString(id) {
			t.Errorf("network create printed %q, want a 64-hex id", id)
		}
		c.run(t, "network", "create", "--subnet", testSubnet(), name).Fails(t, 1, "already exists")
		if got := c.ok(t, "network", "ls", "--filter", "name="+name, "--format", "{{.Name}} {{.Driver}}"); got != name+" bridge" {
			t.Errorf("network ls = %q", got)
		}
		if got := c.ok(t, "network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", name); got != subnet {
			t.Errorf("inspect subnet = %q, want %s", got, subnet)
		}
		ctr := unique("member")
		rmOnCleanup(t, d, ctr)
		c.ok(t, "run", "-d", "--name", ctr, "--network", name, "busybox", "sleep", "300")
		c.run(t, "network", "rm", name).Fails(t, 1, "has active endpoints")
		c.ok(t, "rm", "-f", ctr)
		if got := c.ok(t, "network", "rm", name); got != name {
			t.Errorf("network rm printed %q", got)
		}
		c.run(t, "network", "inspect", name).Fails(t, 1, "not found")
	})
}

func TestLinksAndHostGateway(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		db := unique("db")
		rmOnCleanup(t, d, db)
		c.ok(t, "run", "-d", "--name", db, "busybox", "sleep", "300")
		ip := inspect(t, d, db, `{{.NetworkSettings.Networks.bridge.IPAddress}}`)
		gw := inspect(t, d, db, `{{.NetworkSettings.Networks.bridge.Gateway}}`)
		hosts := c.ok(t, "run", "--rm", "--link", db+":database", "--add-host", "hgw:host-gateway", "busybox", "cat", "/etc/hosts")
		if !strings.Contains(hosts, ip+"\tdatabase "+db) {
			t.Errorf("--link %s:database: /etc/hosts lacks %q:\n%s", db, ip+"\tdatabase "+db, hosts)
		}
		if !strings.Contains(hosts, gw+"\thgw") {
			t.Errorf("--add-host hgw:host-gateway: /etc/hosts lacks %q:\n%s", gw+"\thgw", hosts)
		}
		if out := c.ok(t, "run", "--rm", "--link", db+":database", "busybox", "ping", "-c", "1", "-W", "2", "database"); !strings.Contains(out, "1 packets received") {
			t.Errorf("ping through a link: %s", out)
		}
	})
}
