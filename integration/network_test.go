//go:build linux

package integration

import (
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var linkName = regexp.MustCompile(`(?m)^\d+:\s+([^:@\s]+)[@:]`)

// linkNames extracts interface names from `ip -o link` output.
func linkNames(out string) []string {
	var names []string
	for _, m := range linkName.FindAllStringSubmatch(out, -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return names
}

// stableLinks drops the links that tests running in parallel create and
// remove (veths, network bridges, test daemons' default bridges).
func stableLinks(names []string) []string {
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, "veth") && !strings.HasPrefix(n, "br-") && !strings.HasPrefix(n, "bt") {
			out = append(out, n)
		}
	}
	return out
}

func TestNetworkNoneAndHost(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	hostOut, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatalf("ip -o link show on the host: %v (install iproute2)", err)
	}
	hostLinks := stableLinks(linkNames(string(hostOut)))
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, args := range [][]string{{"--network", "none"}, {"--net=none"}} {
			run := append(append([]string{"run", "--rm"}, args...), "busybox", "ip", "-o", "link")
			if got := linkNames(c.ok(t, run...)); strings.Join(got, ",") != "lo" {
				t.Errorf("%v: interfaces %q, want only lo", args, got)
			}
		}
		// without --network, the default bridge: eth0 besides lo
		if got := linkNames(c.ok(t, "run", "--rm", "busybox", "ip", "-o", "link")); strings.Join(got, ",") != "eth0,lo" {
			t.Errorf("default network: interfaces %q, want eth0 and lo", got)
		}
		got := stableLinks(linkNames(c.ok(t, "run", "--rm", "--network", "host", "busybox", "ip", "-o", "link")))
		if strings.Join(got, ",") != strings.Join(hostLinks, ",") {
			t.Errorf("--network host: interfaces %q, want the host's %q", got, hostLinks)
		}
		name := unique("net")
		c.ok(t, "create", "--name", name, "--network", "host", "busybox", "true")
		rmOnCleanup(t, d, name)
		if got := inspect(t, d, name, "{{.HostConfig.NetworkMode}}"); got != "host" {
			t.Errorf("NetworkMode = %q, want host", got)
		}
	})
}
