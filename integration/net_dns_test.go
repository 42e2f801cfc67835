//go:build linux

package integration

import (
	"strings"
	"testing"
)

// TestDNSAliasSpreads: the embedded DNS shuffles the members of an alias
// for every query, so fresh containers, each taking the first answer, do
// not all land on the same member (docker's round robin).
func TestDNSAliasSpreads(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		netName := userNetwork(t, d, c)
		alias := unique("rr")
		members := map[string]bool{}
		for range 4 {
			name := unique("rrm")
			rmOnCleanup(t, d, name)
			c.ok(t, "run", "-d", "--name", name, "--network", netName, "--network-alias", alias, "busybox", "sleep", "300")
			members[netIP(t, d, name, netName)] = true
		}
		firsts := map[string]int{}
		for range 8 {
			out := c.ok(t, "run", "--rm", "--network", netName, "busybox", "nslookup", "-type=a", alias, "127.0.0.11")
			var got []string
			for _, l := range lines(out) {
				if ip, ok := strings.CutPrefix(strings.TrimSpace(l), "Address: "); ok && members[strings.TrimSpace(ip)] {
					got = append(got, strings.TrimSpace(ip))
				}
			}
			if len(got) != len(members) {
				t.Fatalf("nslookup %s answered %v, want the %d members:\n%s", alias, got, len(members), out)
			}
			firsts[got[0]]++
		}
		if len(firsts) < 2 {
			t.Errorf("8 fresh containers all got %v first: the alias does not spread", firsts)
		}
		// ping -c1 by the alias goes to the first answer too
		out := c.ok(t, "run", "--rm", "--network", netName, "busybox", "ping", "-c", "1", "-W", "2", alias)
		if !strings.Contains(out, "1 packets received") {
			t.Errorf("ping %s:\n%s", alias, out)
		}
		t.Logf("first answers: %v", firsts)
	})
}
