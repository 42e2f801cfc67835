package ipam

import (
	"net/netip"
	"testing"

	"github.com/containerd/errdefs"
)

func TestNewPool(t *testing.T) {
	tests := []struct {
		name, subnet, ipRange, gateway string
		wantGW                         string
		wantErr                        func(error) bool
	}{
		{name: "default gateway", subnet: "10.9.0.0/24", wantGW: "10.9.0.1"},
		{name: "explicit gateway", subnet: "10.9.0.0/24", gateway: "10.9.0.254", wantGW: "10.9.0.254"},
		{name: "unmasked subnet", subnet: "10.9.0.7/24", wantGW: "10.9.0.1"},
		{name: "gateway outside", subnet: "10.9.0.0/24", gateway: "10.8.0.1", wantErr: errdefs.IsInvalidArgument},
		{name: "range outside", subnet: "10.9.0.0/24", ipRange: "10.9.1.0/25", wantErr: errdefs.IsInvalidArgument},
		{name: "range larger", subnet: "10.9.0.0/24", ipRange: "10.9.0.0/23", wantErr: errdefs.IsInvalidArgument},
		{name: "ipv6", subnet: "fd00:1::/64", wantGW: "fd00:1::1"},
		{name: "ipv6 gateway", subnet: "fd00:1::/64", gateway: "fd00:1::fe", wantGW: "fd00:1::fe"},
		{name: "ipv6 range of the other family", subnet: "fd00:1::/64", ipRange: "10.9.0.0/24", wantErr: errdefs.IsInvalidArgument},
		{name: "ipv6 too small", subnet: "fd00:1::/127", wantErr: errdefs.IsInvalidArgument},
		{name: "too small", subnet: "10.9.0.0/31", wantErr: errdefs.IsInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r netip.Prefix
			var gw netip.Addr
			if tt.ipRange != "" {
				r = netip.MustParsePrefix(tt.ipRange)
			}
			if tt.gateway != "" {
				gw = netip.MustParseAddr(tt.gateway)
			}
			p, err := NewPool(netip.MustParsePrefix(tt.subnet), r, gw)
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Gateway().String() != tt.wantGW {
				t.Fatalf("gateway = %s, want %s", p.Gateway(), tt.wantGW)
			}
		})
	}
}

func TestAllocateSequentialWrapsAndExhausts(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.9.0.0/29"), netip.Prefix{}, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		a, err := p.Allocate(netip.Addr{})
		if err != nil {
			if !errdefs.IsUnavailable(err) {
				t.Fatalf("err = %v", err)
			}
			break
		}
		got = append(got, a.String())
	}
	want := []string{"10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	// a released address is reused only after the others (wrap)
	p.Release(netip.MustParseAddr("10.9.0.3"))
	a, err := p.Allocate(netip.Addr{})
	if err != nil || a.String() != "10.9.0.3" {
		t.Fatalf("after release: %v %v", a, err)
	}
}

func TestAllocateNotReusedAtOnce(t *testing.T) {
	p, _ := NewPool(netip.MustParsePrefix("10.9.0.0/24"), netip.Prefix{}, netip.Addr{})
	a, _ := p.Allocate(netip.Addr{})
	p.Release(a)
	b, _ := p.Allocate(netip.Addr{})
	if a == b {
		t.Fatalf("released %s handed out again at once", a)
	}
}

func TestAllocateRangeAndPreferred(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("10.9.0.0/24"), netip.MustParsePrefix("10.9.0.128/25"), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Allocate(netip.Addr{})
	if a.String() != "10.9.0.128" {
		t.Fatalf("first from range = %s", a)
	}
	if _, err := p.Allocate(netip.MustParseAddr("10.9.0.5")); err != nil {
		t.Fatalf("preferred inside subnet: %v", err)
	}
	if _, err := p.Allocate(netip.MustParseAddr("10.9.0.5")); !errdefs.IsConflict(err) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := p.Allocate(netip.MustParseAddr("10.9.1.5")); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("outside: %v", err)
	}
	if _, err := p.Allocate(netip.MustParseAddr("10.9.0.1")); !errdefs.IsConflict(err) {
		t.Fatalf("gateway: %v", err)
	}
	if _, err := p.Allocate(netip.MustParseAddr("10.9.0.255")); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("broadcast: %v", err)
	}
}

func TestNextSubnet(t *testing.T) {
	used := []netip.Prefix{netip.MustParsePrefix("172.17.0.0/16"), netip.MustParsePrefix("172.18.5.0/24")}
	got, err := NextSubnet(DefaultPools(), used)
	if err != nil || got.String() != "172.19.0.0/16" {
		t.Fatalf("got %v %v", got, err)
	}
	all := []netip.Prefix{netip.MustParsePrefix("172.16.0.0/12")}
	got, err = NextSubnet(DefaultPools(), all)
	if err != nil || got.String() != "192.168.0.0/20" {
		t.Fatalf("got %v %v", got, err)
	}
	all = append(all, netip.MustParsePrefix("192.168.0.0/16"))
	if _, err := NextSubnet(DefaultPools(), all); !errdefs.IsUnavailable(err) {
		t.Fatalf("exhausted: %v", err)
	}
	if err := CheckOverlap(netip.MustParsePrefix("172.17.3.0/24"), used); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("overlap: %v", err)
	}
	if err := CheckOverlap(netip.MustParsePrefix("10.0.0.0/24"), used); err != nil {
		t.Fatalf("no overlap: %v", err)
	}
}

func TestPoolIPv6(t *testing.T) {
	p, err := NewPool(netip.MustParsePrefix("fd00:9::/64"), netip.MustParsePrefix("fd00:9::ff00/120"), netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Gateway().String() != "fd00:9::1" {
		t.Fatalf("gateway = %s", p.Gateway())
	}
	a, err := p.Allocate(netip.Addr{})
	if err != nil || a.String() != "fd00:9::ff00" {
		t.Fatalf("first = %v %v", a, err)
	}
	b, _ := p.Allocate(netip.Addr{})
	if b.String() != "fd00:9::ff01" {
		t.Fatalf("second = %s", b)
	}
	p.Release(a)
	if c, _ := p.Allocate(netip.Addr{}); c.String() != "fd00:9::ff02" {
		t.Fatalf("released address reused at once: %s", c)
	}
	// the last address of an IPv6 subnet is an ordinary one
	if _, err := p.Allocate(netip.MustParseAddr("fd00:9::ffff:ffff:ffff:ffff")); err != nil {
		t.Fatalf("last address: %v", err)
	}
	if _, err := p.Allocate(netip.MustParseAddr("fd00:9::")); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("subnet-router anycast: %v", err)
	}
	// a whole /64: allocation does not walk it
	big, _ := NewPool(netip.MustParsePrefix("fd00:8::/64"), netip.Prefix{}, netip.Addr{})
	for i := range 1000 {
		if _, err := big.Allocate(netip.Addr{}); err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
	}
	small, _ := NewPool(netip.MustParsePrefix("fd00:7::/126"), netip.Prefix{}, netip.Addr{})
	for range 2 { // ::2 and ::3; ::1 is the gateway
		if _, err := small.Allocate(netip.Addr{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := small.Allocate(netip.Addr{}); !errdefs.IsUnavailable(err) {
		t.Fatalf("exhausted: %v", err)
	}
}

func TestNextSubnet6(t *testing.T) {
	ula := RandomULA()
	if !netip.MustParsePrefix("fd00::/8").Contains(ula.Base.Addr()) || ula.Base.Bits() != 48 || ula.Size != 64 {
		t.Fatalf("ula = %+v", ula)
	}
	pools := append(DefaultPools(), PoolSpec{Base: netip.MustParsePrefix("fd11:2233:4455::/48"), Size: 64})
	used := []netip.Prefix{netip.MustParsePrefix("172.17.0.0/16"), netip.MustParsePrefix("fd11:2233:4455::/64"), netip.MustParsePrefix("fd11:2233:4455:1::/64"), netip.MustParsePrefix("fd11:2233:4455:2::/63")}
	got, err := NextSubnet6(pools, used)
	if err != nil || got.String() != "fd11:2233:4455:4::/64" {
		t.Fatalf("got %v %v", got, err)
	}
	if got, _ := NextSubnet(pools, used); got.String() != "172.18.0.0/16" {
		t.Fatalf("v4 = %v", got)
	}
	if _, err := NextSubnet6(DefaultPools(), nil); !errdefs.IsUnavailable(err) {
		t.Fatalf("no ipv6 pool: %v", err)
	}
}
