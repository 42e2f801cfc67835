package testutil

import (
	"slices"
	"testing"
)

func TestParseNftRules(t *testing.T) {
	out := `table ip bt_1 { # handle 991
	chain ports { # handle 1
		ip daddr 127.0.0.1 tcp dport 8080 dnat to 172.17.0.2:80 # handle 950
	}

	chain postrouting { # handle 4
		type nat hook postrouting priority srcnat; policy accept;
		oifname "bt1" ip saddr 127.0.0.0/8 masquerade # handle 902
	}
}
`
	got := parseNftRules("ip", "bt_1", out)
	want := []string{
		"ip bt_1 ports: ip daddr 127.0.0.1 tcp dport 8080 dnat to 172.17.0.2:80",
		`ip bt_1 postrouting: oifname "bt1" ip saddr 127.0.0.0/8 masquerade`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q,\nwant %q", got, want)
	}
}

// TestHostStateExtra counts repeated items (a rule added twice) and
// compares shims by command line, not pid.
func TestHostStateExtra(t *testing.T) {
	base := HostState{
		NftRules: []string{"ip t ports: a"},
		Shims:    []string{"pid 10: berth-shim x"},
		Mounts:   []string{"/r/x/netns/1"},
	}
	now := HostState{
		NftRules: []string{"ip t ports: a", "ip t ports: a"},
		Shims:    []string{"pid 11: berth-shim x", "pid 12: berth-shim y"},
		Links:    []string{"veth v1 (master bt1)"},
	}
	got := now.Extra(base)
	want := []string{"link: veth v1 (master bt1)", "nft rule: ip t ports: a", "shim: pid 12: berth-shim y"}
	if !slices.Equal(got, want) {
		t.Fatalf("Extra = %q, want %q", got, want)
	}
	if n := now.Count(); n != 5 {
		t.Errorf("Count = %d, want 5", n)
	}
	if extra := base.Extra(base); len(extra) != 0 {
		t.Errorf("a state has %q beyond itself", extra)
	}
}
