package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestNFTablesApplyAndDelete(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs the nft binary to read the ruleset back")
	}
	ctx := context.Background()
	name := fmt.Sprintf("berthtest%d", os.Getpid())
	f, err := NewNFTables(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Delete(ctx) })
	rs := Ruleset{
		Networks: []Network{
			{Bridge: "brtestA", Subnet: netip.MustParsePrefix("10.250.1.0/24")},
			{Bridge: "brtestB", Subnet: netip.MustParsePrefix("10.250.2.0/24"), Internal: true},
		},
		Ports: []Port{{Proto: "tcp", HostPort: 18080, ContainerIP: netip.MustParseAddr("10.250.1.2"), ContainerPort: 80},
			{Proto: "udp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 15353, ContainerIP: netip.MustParseAddr("10.250.1.2"), ContainerPort: 53}},
	}
	for range 2 { // idempotent
		if err := f.Apply(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	// incremental: a port added, then removed
	more := rs
	more.Ports = append(append([]Port{}, rs.Ports...), Port{Proto: "tcp", HostPort: 18081, ContainerIP: netip.MustParseAddr("10.250.1.3"), ContainerPort: 81})
	if err := f.Apply(ctx, more); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("nft", "list", "chain", "ip", name, "ports").CombinedOutput(); !strings.Contains(string(out), "tcp dport 18081 dnat to 10.250.1.3:81") {
		t.Fatalf("added port missing:\n%s", out)
	}
	if err := f.Apply(ctx, rs); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("nft", "list", "table", "ip", name).CombinedOutput()
	if strings.Contains(string(out), "18081") {
		t.Fatalf("removed port still there:\n%s", out)
	}
	// the table lost behind the firewall's back is rebuilt
	_ = exec.Command("nft", "delete", "table", "ip", name).Run()
	if err := f.Apply(ctx, more); err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(ctx, rs); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("nft", "list", "table", "ip", name).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list: %v: %s", err, out)
	}
	for _, want := range []string{
		"fib daddr type local jump ports",
		"tcp dport 18080 dnat to 10.250.1.2:80",
		"ip daddr 127.0.0.1 udp dport 15353 dnat to 10.250.1.2:53",
		`oifname "brtestA" ip saddr 127.0.0.0/8 masquerade`,
		`ip saddr 10.250.1.0/24 oifname != "brtestA" masquerade`,
		`oifname "brtestB" iifname != "brtestB" drop`,
		`iifname "brtestB" oifname != "brtestB" drop`,
		"ct state established,related accept",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ruleset lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), `ip saddr 10.250.2.0/24 oifname != "brtestB" masquerade`) {
		t.Errorf("internal network masqueraded:\n%s", out)
	}
	if out, err := exec.Command("nft", "list", "table", "ip6", name).CombinedOutput(); err == nil {
		t.Fatalf("ip6 table without any IPv6 network:\n%s", out)
	}

	// IPv6: an ip6 table with NAT66, isolation and the [::] ports
	v6 := rs
	v6.Networks = []Network{rs.Networks[0], rs.Networks[1]}
	v6.Networks[0].Subnet6 = netip.MustParsePrefix("fd99:250:1::/64")
	v6.Ports = append(append([]Port{}, rs.Ports...), Port{Proto: "tcp", HostIP: netip.IPv6Unspecified(), HostPort: 18080, ContainerIP: netip.MustParseAddr("fd99:250:1::2"), ContainerPort: 80})
	if err := f.Apply(ctx, v6); err != nil {
		t.Fatal(err)
	}
	more6 := v6
	more6.Ports = append(append([]Port{}, v6.Ports...), Port{Proto: "udp", HostIP: netip.MustParseAddr("fd99:250:1::1"), HostPort: 18082, ContainerIP: netip.MustParseAddr("fd99:250:1::3"), ContainerPort: 82})
	if err := f.Apply(ctx, more6); err != nil { // incremental
		t.Fatal(err)
	}
	out, err = exec.Command("nft", "list", "table", "ip6", name).CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ip6: %v: %s", err, out)
	}
	for _, want := range []string{
		"fib daddr type local ip6 daddr != ::1 jump ports",
		"tcp dport 18080 dnat to [fd99:250:1::2]:80",
		"ip6 daddr fd99:250:1::1 udp dport 18082 dnat to [fd99:250:1::3]:82",
		`ip6 saddr fd99:250:1::/64 oifname != "brtestA" masquerade`,
		`oifname "brtestA" iifname != "brtestA" drop`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ip6 ruleset lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "brtestB") || strings.Contains(string(out), "10.250") {
		t.Errorf("ip6 table has IPv4-only parts:\n%s", out)
	}
	if out, _ := exec.Command("nft", "list", "table", "ip", name).CombinedOutput(); strings.Contains(string(out), "fd99") {
		t.Errorf("ip table has IPv6 parts:\n%s", out)
	}
	// the last IPv6 network gone: the ip6 table goes
	if err := f.Apply(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nft", "list", "table", "ip6", name).CombinedOutput(); err == nil {
		t.Fatalf("ip6 table left without IPv6 networks:\n%s", out)
	}
	if err := f.Apply(ctx, v6); err != nil {
		t.Fatal(err)
	}

	if err := f.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if out, err := exec.Command("nft", "list", "table", "ip6", name).CombinedOutput(); err == nil {
		t.Fatalf("ip6 table still there:\n%s", out)
	}
	if out, err := exec.Command("nft", "list", "table", "ip", name).CombinedOutput(); err == nil {
		t.Fatalf("table still there:\n%s", out)
	}
}
