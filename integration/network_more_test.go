//go:build linux

package integration

import (
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// httpdCmd serves a page saying word from /tmp on port 80.
func httpdCmd(word string) []string {
	return []string{"sh", "-c", "echo " + word + " > /tmp/index.html && exec httpd -f -p 80 -h /tmp"}
}

// netIP is the container's address on network net.
func netIP(t testing.TB, d *testutil.Daemon, name, network string) string {
	t.Helper()
	return inspect(t, d, name, fmt.Sprintf("{{with index .NetworkSettings.Networks %q}}{{.IPAddress}}{{end}}", network))
}

// waitGet polls url until its body contains want.
func waitGet(t testing.TB, url, want string) {
	t.Helper()
	waitFor(t, 10*time.Second, "GET "+url+" to answer "+want, func() bool {
		return strings.Contains(httpGet(url), want)
	})
}

// freePort is a TCP port nothing listens on at 127.0.0.1 right now.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

var portLine = regexp.MustCompile(`^80/tcp -> 0\.0\.0\.0:(\d+)$`)

func TestPublishAllExposed(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("pall")
		rmOnCleanup(t, d, name)
		c.ok(t, append([]string{"run", "-d", "--name", name, "--network", "bridge", "--expose", "80", "-P", "busybox"},
			httpdCmd("hello-"+name)...)...)
		out := c.ok(t, "port", name)
		port := ""
		for _, l := range lines(out) {
			if m := portLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				port = m[1]
			}
		}
		if port == "" {
			t.Fatalf("port %s = %q, want a line 80/tcp -> 0.0.0.0:<port>", name, out)
		}
		if p, _ := strconv.Atoi(port); p < 1024 {
			t.Errorf("-P chose host port %d, want an ephemeral one", p)
		}
		if got := c.ok(t, "port", name, "80"); !contains(lines(got), "0.0.0.0:"+port) {
			t.Errorf("port %s 80 = %q, want 0.0.0.0:%s", name, got, port)
		}
		waitGet(t, "http://127.0.0.1:"+port+"/", "hello-"+name)
	})
}

func TestPublishPortConflict(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		port := freePort(t)
		first := unique("owner")
		rmOnCleanup(t, d, first)
		c.ok(t, append([]string{"run", "-d", "--name", first, "--network", "bridge", "-p", "127.0.0.1:" + port + ":80", "busybox"},
			httpdCmd("first-"+first)...)...)
		waitGet(t, "http://127.0.0.1:"+port+"/", "first-"+first)

		second := unique("taker")
		rmOnCleanup(t, d, second)
		res := c.run(t, "run", "-d", "--name", second, "--network", "bridge", "-p", "127.0.0.1:"+port+":80", "busybox", "sleep", "300")
		if res.ExitCode != 125 {
			t.Errorf("second run on the same host port: want exit 125: %s", res)
		}
		if !strings.Contains(res.Stderr, "port is already allocated") && !strings.Contains(res.Stderr, "address already in use") {
			t.Errorf("second run: want docker's port conflict message: %s", res)
		}
		if ps := c.ok(t, "ps", "-q", "--filter", "name="+second); ps != "" {
			t.Errorf("the failed container runs: ps = %q", ps)
		}
		// the first one still serves
		waitGet(t, "http://127.0.0.1:"+port+"/", "first-"+first)
	})
}

func TestPublishPortHeldByHost(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	name := unique("hostheld")
	rmOnCleanup(t, d, name)
	res := d.Berth(t, "run", "-d", "--name", name, "--network", "bridge", "-p", "127.0.0.1:"+port+":80", "busybox", "sleep", "300")
	if res.ExitCode != 125 || !strings.Contains(res.Stderr, "address already in use") {
		t.Errorf("publishing a port a host process listens on: want exit 125 and \"address already in use\": %s", res)
	}
	if ps := d.Berth(t, "ps", "-q", "--filter", "name="+name).Success(t).Out(); ps != "" {
		t.Errorf("the failed container runs: ps = %q", ps)
	}
}

func TestInternalNetwork(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		internal := userNetwork(t, d, c, "--internal")
		if got := c.ok(t, "network", "inspect", "-f", "{{.Internal}}", internal); got != "true" {
			t.Errorf("network inspect .Internal = %q, want true", got)
		}
		other := userNetwork(t, d, c)
		outside := unique("outside")
		rmOnCleanup(t, d, outside)
		c.ok(t, "run", "-d", "--name", outside, "--network", other, "busybox", "sleep", "300")
		outsideIP := netIP(t, d, outside, other)

		inner := unique("inner")
		rmOnCleanup(t, d, inner)
		c.ok(t, "run", "-d", "--name", inner, "--network", internal, "busybox", "sleep", "300")
		innerIP := netIP(t, d, inner, internal)

		// no way out: no default route, and the other network is unreachable
		if out := c.ok(t, "run", "--rm", "--network", internal, "busybox", "ip", "route"); strings.Contains(out, "default") {
			t.Errorf("a container on an internal network has a default route:\n%s", out)
		}
		if res := c.run(t, "run", "--rm", "--network", internal, "busybox", "ping", "-c", "1", "-W", "1", outsideIP); res.ExitCode == 0 {
			t.Errorf("ping from an internal network to another network succeeded: %s", res)
		}
		if res := c.run(t, "run", "--rm", "--network", other, "busybox", "ping", "-c", "1", "-W", "1", innerIP); res.ExitCode == 0 {
			t.Errorf("ping from another network into an internal one succeeded: %s", res)
		}
		// names and traffic inside the internal network still work
		out := c.ok(t, "run", "--rm", "--network", internal, "busybox", "nslookup", inner, "127.0.0.11")
		if !strings.Contains(out, innerIP) {
			t.Errorf("nslookup %s on its internal network = %q, want %s", inner, out, innerIP)
		}
		if out := c.ok(t, "run", "--rm", "--network", internal, "busybox", "ping", "-c", "1", "-W", "2", inner); !strings.Contains(out, "1 packets received") {
			t.Errorf("ping %s by name on an internal network: %s", inner, out)
		}
	})
}

// probeScript reports, about three times a second, the container's IPv4
// addresses and whether pinging target (a name) and targetIP work, one line
// per round; berth has no exec, so a running container is observed through
// its logs.
func probeScript(target, targetIP string) []string {
	return []string{"sh", "-c", `i=0; while :; do i=$((i+1)); a=$(ip -4 -o addr | awk '{print $4}' | tr '\n' ' '); ` +
		`if ping -c 1 -W 1 ` + target + ` >/dev/null 2>&1; then p=ok; else p=fail; fi; ` +
		`if ping -c 1 -W 1 ` + targetIP + ` >/dev/null 2>&1; then q=ok; else q=fail; fi; echo "probe $i addrs=[$a] ping=$p pingip=$q"; sleep 0.2; done`}
}

// lastProbe is the last complete probe line in the container's logs, and
// its round number.
func lastProbe(t testing.TB, d *testutil.Daemon, name string) (int, string) {
	t.Helper()
	ls := lines(d.Berth(t, "logs", name).Success(t).Stdout)
	for i := len(ls) - 1; i >= 0; i-- {
		var n int
		if _, err := fmt.Sscanf(ls[i], "probe %d", &n); err == nil && strings.Contains(ls[i], "ping=") {
			return n, ls[i]
		}
	}
	return 0, ""
}

// waitProbe waits for a probe round after round whose line satisfies ok.
func waitProbe(t testing.TB, d *testutil.Daemon, name string, after int, what string, ok func(string) bool) {
	t.Helper()
	var last string
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		n, l := lastProbe(t, d, name)
		last = l
		if n > after && ok(l) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last probe: %q", what, last)
}

// bridgePorts lists the interfaces enslaved to the Linux bridge br.
func bridgePorts(t testing.TB, br string) []string {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link", "show", "master", br).CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show master %s: %v: %s", br, err, out)
	}
	var names []string
	for _, l := range lines(string(out)) {
		if f := strings.Fields(l); len(f) > 1 {
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			names = append(names, name)
		}
	}
	return names
}

func TestNetworkConnectDisconnect(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		first := userNetwork(t, d, c)
		second := userNetwork(t, d, c)
		secondBridge := "br-" + c.ok(t, "network", "inspect", "-f", "{{.Id}}", second)[:12]
		target := unique("target")
		rmOnCleanup(t, d, target)
		c.ok(t, "run", "-d", "--name", target, "--network", second, "busybox", "sleep", "300")
		targetIP := netIP(t, d, target, second)
		if got := bridgePorts(t, secondBridge); len(got) != 1 {
			t.Errorf("%s has ports %v, want one veth", secondBridge, got)
		}

		roamer := unique("roamer")
		rmOnCleanup(t, d, roamer)
		c.ok(t, append([]string{"run", "-d", "--name", roamer, "--network", first, "busybox"}, probeScript(target, targetIP)...)...)
		firstIP := netIP(t, d, roamer, first)
		waitProbe(t, d, roamer, 0, "a first probe", func(l string) bool { return strings.Contains(l, firstIP+"/") })
		if _, l := lastProbe(t, d, roamer); !strings.Contains(l, "ping=fail pingip=fail") {
			t.Errorf("%s reached %s before connect: %q", roamer, target, l)
		}

		c.ok(t, "network", "connect", second, roamer)
		n, _ := lastProbe(t, d, roamer)
		ip := netIP(t, d, roamer, second)
		if net.ParseIP(ip) == nil {
			t.Fatalf("after connect, inspect shows address %q on %s", ip, second)
		}
		if got := netIP(t, d, roamer, first); got != firstIP {
			t.Errorf("after connect the first network's address is %q, want %s", got, firstIP)
		}
		waitProbe(t, d, roamer, n, "ping "+target+" by name after connect", func(l string) bool {
			return strings.Contains(l, ip+"/") && strings.Contains(l, "ping=ok pingip=ok")
		})
		if got := bridgePorts(t, secondBridge); len(got) != 2 {
			t.Errorf("after connect %s has ports %v, want two veths", secondBridge, got)
		}

		c.ok(t, "network", "disconnect", second, roamer)
		n, _ = lastProbe(t, d, roamer)
		if got := netIP(t, d, roamer, second); got != "" {
			t.Errorf("after disconnect inspect still shows %q on %s", got, second)
		}
		waitProbe(t, d, roamer, n+1, "the address to go and ping to fail after disconnect", func(l string) bool {
			return !strings.Contains(l, ip+"/") && strings.Contains(l, firstIP+"/") && strings.Contains(l, "ping=fail pingip=fail")
		})
		if got := bridgePorts(t, secondBridge); len(got) != 1 {
			t.Errorf("after disconnect %s has ports %v, want the target's veth only", secondBridge, got)
		}
		if res := c.run(t, "run", "--rm", "--network", first, "busybox", "ping", "-c", "1", "-W", "1", targetIP); res.ExitCode == 0 {
			t.Errorf("ping %s from %s after disconnect succeeded: %s", targetIP, first, res)
		}
	})
}

func TestDaemonRestartKeepsNetworking(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	c := cli{name: "berth", d: d}
	network := userNetwork(t, d, c)
	web := unique("web")
	c.ok(t, append([]string{"run", "-d", "--name", web, "--network", network, "-p", "127.0.0.1::80", "busybox"},
		httpdCmd("alive-"+web)...)...)
	port := c.ok(t, "inspect", "-f", `{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}`, web)
	ip := netIP(t, d, web, network)
	waitGet(t, "http://127.0.0.1:"+port+"/", "alive-"+web)

	check := func(t *testing.T) {
		if got := inspect(t, d, web, "{{.State.Running}}"); got != "true" {
			t.Fatalf("after the restart %s is not running (%s)", web, got)
		}
		if got := c.ok(t, "port", web, "80"); got != "127.0.0.1:"+port {
			t.Errorf("port %s 80 = %q, want 127.0.0.1:%s", web, got, port)
		}
		waitGet(t, "http://127.0.0.1:"+port+"/", "alive-"+web)
		waitGet(t, "http://"+ip+"/", "alive-"+web)
		out := c.ok(t, "run", "--rm", "--network", network, "busybox", "nslookup", web, "127.0.0.11")
		if !strings.Contains(out, ip) {
			t.Errorf("a new container resolves %s to %q, want %s", web, out, ip)
		}
		out = c.ok(t, "run", "--rm", "--network", network, "busybox", "wget", "-q", "-O", "-", "http://"+web+"/")
		if !strings.Contains(out, "alive-"+web) {
			t.Errorf("a new container fetching http://%s/ got %q", web, out)
		}
		// a fresh mapping still works next to the restored one
		fresh := unique("fresh")
		rmOnCleanup(t, d, fresh)
		c.ok(t, append([]string{"run", "-d", "--name", fresh, "--network", network, "-p", "127.0.0.1::80", "busybox"},
			httpdCmd("fresh-"+fresh)...)...)
		fport := c.ok(t, "inspect", "-f", `{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}`, fresh)
		if fport == port {
			t.Errorf("a new container got host port %s, already published by %s", fport, web)
		}
		waitGet(t, "http://127.0.0.1:"+fport+"/", "fresh-"+fresh)
	}
	t.Run("graceful", func(t *testing.T) {
		d.Restart(t)
		check(t)
	})
	t.Run("kill9", func(t *testing.T) {
		if err := d.Kill9(); err != nil {
			t.Fatal(err)
		}
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		check(t)
	})
}

// linkIndexes are the interface indexes `ip -o link` lists, with names.
func linkIndexes(t testing.TB) map[string]string {
	t.Helper()
	out, err := exec.Command("ip", "-o", "link").CombinedOutput()
	if err != nil {
		t.Fatalf("ip -o link: %v: %s", err, out)
	}
	links := map[string]string{}
	for _, l := range lines(string(out)) {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		links[strings.TrimSuffix(f[0], ":")] = name
	}
	return links
}

func TestNetworkNoLeftovers(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		network := unique("net")
		id := c.ok(t, "network", "create", "--subnet", testSubnet(), network)
		t.Cleanup(func() { d.Berth(t, "network", "rm", network) })
		if !fullID.MatchString(id) {
			t.Fatalf("network create printed %q", id)
		}
		bridge := "br-" + id[:12]
		if links := linkIndexes(t); !contains(mapValues(links), bridge) {
			t.Errorf("no bridge %s for the new network", bridge)
		}

		type member struct{ name, network string }
		var members []member
		for _, n := range []string{network, network, "bridge"} {
			name := unique("tmp")
			rmOnCleanup(t, d, name)
			args := []string{"run", "-d", "--name", name, "--network", n}
			if n == "bridge" {
				args = append(args, "-p", "127.0.0.1::80")
			}
			c.ok(t, append(args, "busybox", "sh", "-c",
				`for d in /sys/class/net/*; do echo "${d##*/} $(cat $d/iflink)"; done; exec sleep 300`)...)
			members = append(members, member{name, n})
		}
		// one more network on a container, via connect
		c.ok(t, "network", "connect", network, members[2].name)
		var ips []string
		for _, m := range members {
			waitFor(t, 5*time.Second, m.name+" to list its interfaces", func() bool {
				return strings.Contains(d.Berth(t, "logs", m.name).Stdout, "lo ")
			})
		}

		peers := map[string]string{} // host-side ifindex -> what it served
		links := linkIndexes(t)
		for _, m := range members {
			for _, l := range lines(c.ok(t, "logs", m.name)) {
				if dev, idx, ok := strings.Cut(l, " "); ok && dev != "lo" {
					peers[idx] = m.name + "/" + dev
				}
			}
			if m.network == network {
				// addresses on the default bridge may be reused by other tests at once
				ips = append(ips, netIP(t, d, m.name, m.network))
			}
		}
		for _, port := range bridgePorts(t, bridge) {
			for idx, name := range links {
				if name == port {
					peers[idx] = bridge + " port " + port
				}
			}
		}
		if len(peers) != 4 {
			t.Errorf("found %d container interfaces, want 4: %v", len(peers), peers)
		}
		for idx, who := range peers {
			if _, ok := links[idx]; !ok {
				t.Errorf("host peer %s of %s not found", idx, who)
			}
		}

		for _, m := range members {
			c.ok(t, "rm", "-f", m.name)
		}
		c.ok(t, "network", "rm", network)

		links = linkIndexes(t)
		for idx, who := range peers {
			if name, ok := links[idx]; ok {
				t.Errorf("host interface %s (%s), the peer of removed %s, is left over", idx, name, who)
			}
		}
		if contains(mapValues(links), bridge) {
			t.Errorf("bridge %s of the removed network is left over", bridge)
		}
		out, err := exec.Command("nft", "list", "table", "ip", d.Net.Table).CombinedOutput()
		if err != nil {
			t.Fatalf("nft list table %s: %v: %s", d.Net.Table, err, out)
		}
		if strings.Contains(string(out), bridge) {
			t.Errorf("nftables table %s still mentions %s:\n%s", d.Net.Table, bridge, out)
		}
		for _, ip := range ips {
			if ip != "" && regexp.MustCompile(regexp.QuoteMeta(ip)+`\b`).Match(out) {
				t.Errorf("nftables table %s still mentions removed container address %s:\n%s", d.Net.Table, ip, out)
			}
		}
	})
}

// mapValues lists m's values.
func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
