//go:build linux

package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// The network of RUN steps: the default bridge (NAT out, a container's
// /etc files), --network host and none, RUN --network, --add-host, and no
// namespace, veth or endpoint left after a build.

// eachBuildCLI runs f for berth build, then for docker build through
// buildx (skipped with a message where it cannot be built).
func eachBuildCLI(t *testing.T, d *testutil.Daemon, f func(t *testing.T, c cli)) {
	t.Helper()
	for _, name := range []string{"berth", "docker"} {
		t.Run(name, func(t *testing.T) {
			if name == "docker" {
				d.RequiresBuildx(t)
			}
			f(t, cli{name: name, d: d})
		})
	}
}

// netBuildContext writes a build context holding dockerfile.
func netBuildContext(t *testing.T, dockerfile string) string {
	t.Helper()
	return buildContext(t, map[string]string{"Dockerfile": dockerfile})
}

// netBuild builds dir as a fresh image (no cache: every RUN runs) and
// removes the image when t ends.
func netBuild(t *testing.T, c cli, dir string, args ...string) (string, *testutil.Result) {
	t.Helper()
	img := unique("bnet")
	t.Cleanup(func() { c.d.Berth(t, "rmi", "-f", img) })
	res := c.run(t, append(append([]string{"build", "--no-cache", "--progress", "plain", "-t", img}, args...), dir)...)
	return img, res
}

// httpdOnBridge runs a busybox httpd serving /f (holding a unique token)
// on the default bridge and returns its address and the token.
func httpdOnBridge(t *testing.T, d *testutil.Daemon, network string) (ip, token string) {
	t.Helper()
	name := unique("httpd")
	token = unique("token")
	rmOnCleanup(t, d, name)
	args := []string{"run", "-d", "--name", name}
	if network != "" {
		args = append(args, "--network", network)
	}
	d.Berth(t, append(args, "busybox", "sh", "-c", "mkdir -p /www && echo "+token+" > /www/f && exec httpd -f -p 8080 -h /www")...).Success(t)
	nw := network
	if nw == "" {
		nw = "bridge"
	}
	return netIP(t, d, name, nw), token
}

// netFetch is a RUN that fetches http://host:port/path into /got (the body's
// last line), retrying while the server starts. It speaks HTTP through
// nc: the static busybox's wget crashes on some hosts.
func netFetch(host, port, path string) string {
	return fmt.Sprintf("RUN for i in 1 2 3 4 5 6 7 8 9 10; do printf 'GET %s HTTP/1.0\\r\\n\\r\\n' | nc -w 3 %s %s > /resp && grep -q ' 200 ' /resp && break; sleep 0.5; done; tail -n 1 /resp > /got; cat /got\n", path, host, port)
}

// netUnreachable is a RUN that succeeds when http://host:port is out of reach.
func netUnreachable(host, port string) string {
	return fmt.Sprintf("! printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 %s %s", host, port)
}

func TestBuildRunReachesBridgeContainer(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	ip, token := httpdOnBridge(t, d, "")
	eachBuildCLI(t, d, func(t *testing.T, c cli) {
		dir := netBuildContext(t, "FROM busybox\nARG IP\n"+netFetch("$IP", "8080", "/f")+
			"RUN cat /etc/resolv.conf > /resolv.conf && cat /etc/hosts > /hosts && hostname > /hostname\n")
		img, res := netBuild(t, c, dir, "--build-arg", "IP="+ip)
		res.Success(t)
		if got := d.Berth(t, "run", "--rm", img, "cat", "/got").Success(t).Out(); got != token {
			t.Errorf("the RUN fetched %q from %s, want %q", got, ip, token)
		}
		// the RUN saw the /etc files a container on the default bridge gets
		want := d.Berth(t, "run", "--rm", "busybox", "cat", "/etc/resolv.conf").Success(t).Out()
		if got := d.Berth(t, "run", "--rm", img, "cat", "/resolv.conf").Success(t).Out(); got != want {
			t.Errorf("resolv.conf in RUN:\n%s\nin a container:\n%s", got, want)
		}
		hosts := d.Berth(t, "run", "--rm", img, "cat", "/hosts").Success(t).Out()
		hostname := d.Berth(t, "run", "--rm", img, "cat", "/hostname").Success(t).Out()
		if !strings.Contains(hosts, "127.0.0.1\tlocalhost\n") || !strings.Contains(hosts, "\t"+hostname) {
			t.Errorf("hosts in RUN does not name localhost and %s:\n%s", hostname, hosts)
		}
	})
	noBuildLeftovers(t, d)
}

func TestBuildRunNetworkNone(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	ip, _ := httpdOnBridge(t, d, "")
	eachBuildCLI(t, d, func(t *testing.T, c cli) {
		// RUN --network=none cannot reach it
		dir := netBuildContext(t, "FROM busybox\nARG IP\nRUN --network=none ip -o link show > /links; "+netUnreachable("$IP", "8080")+"\n")
		img, res := netBuild(t, c, dir, "--build-arg", "IP="+ip)
		res.Success(t)
		if links := d.Berth(t, "run", "--rm", img, "cat", "/links").Success(t).Out(); len(lines(links)) != 1 || !strings.Contains(links, "lo:") {
			t.Errorf("a --network=none RUN sees more than its loopback:\n%s", links)
		}
		// nor does any RUN of build --network none
		dir = netBuildContext(t, "FROM busybox\nARG IP\nRUN printf 'GET /f HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $IP 8080\n")
		_, res = netBuild(t, c, dir, "--network", "none", "--build-arg", "IP="+ip)
		netBuildFailed(t, res)
	})
}

func TestBuildNetworkHost(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	token := unique("host")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, token) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	eachBuildCLI(t, d, func(t *testing.T, c cli) {
		dir := netBuildContext(t, "FROM busybox\n"+netFetch("127.0.0.1", port, "/"))
		img, res := netBuild(t, c, dir, "--network", "host")
		res.Success(t)
		if got := d.Berth(t, "run", "--rm", img, "cat", "/got").Success(t).Out(); got != token {
			t.Errorf("the host RUN fetched %q, want %q", got, token)
		}
		// without host networking, the host's loopback is out of reach
		dir = netBuildContext(t, "FROM busybox\nRUN printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 "+port+"\n")
		_, res = netBuild(t, c, dir)
		netBuildFailed(t, res)
	})
}

func TestBuildAddHost(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	ip, token := httpdOnBridge(t, d, "")
	gateway := strings.Split(d.Net.BIP, "/")[0]
	eachBuildCLI(t, d, func(t *testing.T, c cli) {
		dir := netBuildContext(t, "FROM busybox\n"+netFetch("web.bnet.test", "8080", "/f")+
			"RUN cat /etc/hosts > /hosts\n")
		img, res := netBuild(t, c, dir, "--add-host", "web.bnet.test:"+ip, "--add-host", "gw.bnet.test:host-gateway")
		res.Success(t)
		if got := d.Berth(t, "run", "--rm", img, "cat", "/got").Success(t).Out(); got != token {
			t.Errorf("the RUN fetched %q from web.bnet.test, want %q", got, token)
		}
		hosts := d.Berth(t, "run", "--rm", img, "cat", "/hosts").Success(t).Out()
		for _, want := range []string{ip + "\tweb.bnet.test", gateway + "\tgw.bnet.test"} {
			if !strings.Contains(hosts, want) {
				t.Errorf("hosts in RUN lacks %q:\n%s", want, hosts)
			}
		}
	})
}

// TestBuildNoNetworkLeftovers runs builds on a berthd of its own, then
// finds no build namespace, endpoint or veth left.
func TestBuildNoNetworkLeftovers(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	dir := netBuildContext(t, "FROM busybox\nRUN ip -o -4 addr show eth0 > /addr\nRUN --network=none true\nRUN ! false\n")
	for range 2 {
		img, res := netBuild(t, cli{name: "berth", d: d}, dir)
		res.Success(t)
		if addr := d.Berth(t, "run", "--rm", img, "cat", "/addr").Success(t).Out(); !strings.Contains(addr, "eth0") {
			t.Errorf("the RUN had no address on the bridge: %q", addr)
		}
	}
	// a failing RUN releases its network too
	_, res := netBuild(t, cli{name: "berth", d: d}, netBuildContext(t, "FROM busybox\nRUN exit 3\n"))
	netBuildFailed(t, res)
	noBuildLeftovers(t, d)
	// the kernel deletes the veths of destroyed namespaces in the background
	var veths []string
	waitFor(t, 10*time.Second, "the build veths to go", func() bool {
		veths = bridgePorts(t, d.Net.Bridge)
		return len(veths) == 0
	})
}

// noBuildLeftovers checks that no build sandbox's namespace or endpoint
// is left once the builds are done.
func noBuildLeftovers(t *testing.T, d *testutil.Daemon) {
	t.Helper()
	var left []string
	waitFor(t, 10*time.Second, "the build sandboxes to go", func() bool {
		left = nil
		entries, _ := os.ReadDir(filepath.Join(d.ExecRoot, "netns"))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "build-") {
				left = append(left, "netns "+e.Name())
			}
		}
		eps := d.Berth(t, "network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", "bridge").Success(t).Out()
		for _, name := range strings.Fields(eps) {
			if strings.HasPrefix(name, "build-") {
				left = append(left, "endpoint "+name)
			}
		}
		return len(left) == 0
	})
	if len(left) > 0 {
		t.Errorf("left after the builds: %v", left)
	}
}

// netBuildFailed fails t unless the build failed.
func netBuildFailed(t *testing.T, res *testutil.Result) {
	t.Helper()
	if res.ExitCode == 0 {
		t.Errorf("the build succeeded: %s", res)
	}
}

// TestBuildRunOnUserNetwork: the classic POST /build's networkmode=<user
// network> (docker build --network with DOCKER_BUILDKIT=0, Compose's
// build.network) runs the RUN steps on that network, where they resolve
// its containers by name, as docker's classic builder did. BuildKit
// clients (buildx, berth build) refuse a user network before asking the
// daemon, as they do against dockerd.
func TestBuildRunOnUserNetwork(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	testutil.RequiresDockerCLI(t)
	netName := unique("bnet")
	d.Berth(t, "network", "create", "--subnet", testSubnet(), netName).Success(t)
	t.Cleanup(func() { d.Berth(t, "network", "rm", netName) })
	srv := unique("srv")
	rmOnCleanup(t, d, srv)
	token := unique("token")
	d.Berth(t, "run", "-d", "--name", srv, "--network", netName, "busybox", "sh", "-c",
		"mkdir -p /www && echo "+token+" > /www/f && exec httpd -f -p 8080 -h /www").Success(t)
	dir := netBuildContext(t, "FROM busybox\n"+netFetch(srv, "8080", "/f")+"RUN hostname > /hostname\n")
	img := unique("bnet")
	t.Cleanup(func() { d.Berth(t, "rmi", "-f", img) })
	cmd := d.DockerCmd("build", "--no-cache", "--network", netName, "-t", img, dir)
	cmd.Env = append(cmd.Env, "DOCKER_BUILDKIT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("DOCKER_BUILDKIT=0 docker build --network %s: %v\n%s", netName, err, out)
	}
	if got := d.Berth(t, "run", "--rm", img, "cat", "/got").Success(t).Out(); got != token {
		t.Errorf("the RUN fetched %q from %s by name, want %q", got, srv, token)
	}
	netID := d.Berth(t, "network", "inspect", "-f", "{{.Id}}", netName).Success(t).Out()
	if got := d.Berth(t, "run", "--rm", img, "cat", "/hostname").Success(t).Out(); got != netID[:12] {
		t.Errorf("hostname in RUN %q, want the network's short ID %s", got, netID[:12])
	}
	noBuildLeftovers(t, d)

	res := d.Berth(t, "build", "--network", netName, dir)
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "not supported by buildkit") {
		t.Errorf("berth build --network <user network>: %s", res)
	}
}

// TestBuildNetworkAfterKill: a berthd killed while a RUN runs leaves its
// sandbox behind; the next berthd removes it (its endpoint, namespace and
// veth) before its first build runs a step.
func TestBuildNetworkAfterKill(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	dir := netBuildContext(t, "FROM busybox\nRUN sleep 4\n")
	cmd := d.BerthCmd("build", "--no-cache", "-t", unique("bnet"), dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the RUN's sandbox", func() bool {
		entries, _ := os.ReadDir(filepath.Join(d.ExecRoot, "netns"))
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "build-") {
				return true
			}
		}
		return false
	})
	if err := d.Kill9(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	time.Sleep(5 * time.Second) // the orphaned step ends, its namespace stays mounted
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	_, res := netBuild(t, cli{name: "berth", d: d}, netBuildContext(t, "FROM busybox\nRUN true\n"))
	res.Success(t)
	if !strings.Contains(d.Log(), "removing a build sandbox left by an earlier berthd") {
		t.Error("the restarted berthd did not remove the killed build's sandbox")
	}
	noBuildLeftovers(t, d)
	waitFor(t, 10*time.Second, "the killed build's veth to go", func() bool {
		return len(bridgePorts(t, d.Net.Bridge)) == 0
	})
}
