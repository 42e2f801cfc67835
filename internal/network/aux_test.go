package network

import (
	"net/netip"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/network/ipam"
)

func TestReserveAux(t *testing.T) {
	subnet := netip.MustParsePrefix("10.7.0.0/29")
	for _, tc := range []struct {
		name    string
		aux     map[string]netip.Addr
		wantErr func(error) bool
		msg     string
	}{
		{name: "none"},
		{name: "inside", aux: map[string]netip.Addr{"router": netip.MustParseAddr("10.7.0.2"), "nas": netip.MustParseAddr("10.7.0.3")}},
		{
			name: "outside the subnet", aux: map[string]netip.Addr{"far": netip.MustParseAddr("10.8.0.2")},
			wantErr: errdefs.IsPermissionDenied, msg: "auxiliary address: (far:10.8.0.2) must belong to the master pool: 10.7.0.0/29",
		},
		{
			name: "the gateway", aux: map[string]netip.Addr{"gw": netip.MustParseAddr("10.7.0.1")},
			wantErr: errdefs.IsUnknown, msg: "failed to allocate secondary ip address (gw:10.7.0.1): Address already in use",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := ipam.NewPool(subnet, netip.Prefix{}, netip.Addr{})
			if err != nil {
				t.Fatal(err)
			}
			err = reserveAux(pool, tc.aux)
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) || err.Error() != tc.msg {
					t.Fatalf("reserveAux = %v, want %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// every address the pool hands out afterwards avoids them
			for {
				a, err := pool.Allocate(netip.Addr{})
				if err != nil {
					break
				}
				for name, aux := range tc.aux {
					if a == aux {
						t.Errorf("allocated %s, the auxiliary address %s", a, name)
					}
				}
			}
			for name, aux := range tc.aux {
				if _, err := pool.Allocate(aux); !errdefs.IsConflict(err) {
					t.Errorf("--ip %s (aux %s): %v, want a conflict", aux, name, err)
				}
			}
		})
	}
}
