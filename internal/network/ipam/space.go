package ipam

import (
	"crypto/rand"
	"net/netip"

	"github.com/containerd/errdefs"
)

// PoolSpec is one of dockerd's default-address-pools entries: Base is cut
// into subnets of Size bits.
type PoolSpec struct {
	Base netip.Prefix
	Size int
}

// DefaultPools returns dockerd's default address pools: 172.17.0.0/16 to
// 172.31.0.0/16, then 192.168.0.0/16 in /20s.
func DefaultPools() []PoolSpec {
	var pools []PoolSpec
	for i := byte(17); i <= 31; i++ {
		pools = append(pools, PoolSpec{Base: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, i, 0, 0}), 16), Size: 16})
	}
	return append(pools, PoolSpec{Base: netip.MustParsePrefix("192.168.0.0/16"), Size: 20})
}

// NextSubnet returns the first subnet of the IPv4 pools that overlaps none
// of used (the subnets of existing networks and the host's routes).
func NextSubnet(pools []PoolSpec, used []netip.Prefix) (netip.Prefix, error) {
	return nextSubnet(pools, used, true)
}

// NextSubnet6 is NextSubnet for IPv6: the first free subnet of the IPv6
// pools.
func NextSubnet6(pools []PoolSpec, used []netip.Prefix) (netip.Prefix, error) {
	return nextSubnet(pools, used, false)
}

func nextSubnet(pools []PoolSpec, used []netip.Prefix, v4 bool) (netip.Prefix, error) {
	for _, spec := range pools {
		base := spec.Base.Masked()
		if base.Addr().Is4() != v4 || spec.Size < base.Bits() || spec.Size > base.Addr().BitLen()-2 {
			continue
		}
		// at most 1<<16 candidates of one pool, as a /48 cut in /64s has
		count := uint64(1) << min(spec.Size-base.Bits(), 16)
		cand := netip.PrefixFrom(base.Addr(), spec.Size)
		for range count {
			if !overlapsAny(cand, used) {
				return cand, nil
			}
			_, last := bounds(cand)
			cand = netip.PrefixFrom(last.Next(), spec.Size)
		}
	}
	return netip.Prefix{}, errdefs.ErrUnavailable.WithMessage("all predefined address pools have been fully subnetted")
}

// RandomULA returns a pool of /64s in a unique local /48 with a random
// 40-bit global ID (RFC 4193). Docker derives the same kind of pool from its
// host id, so that IPv6 networks created without a subnet get one; the
// caller keeps the result, so it is stable over restarts.
func RandomULA() PoolSpec {
	b := [16]byte{0xfd}
	_, _ = rand.Read(b[1:6])
	return PoolSpec{Base: netip.PrefixFrom(netip.AddrFrom16(b), 48), Size: 64}
}

// CheckOverlap returns docker's error (403 there: ErrPermissionDenied) when
// subnet overlaps one of used.
func CheckOverlap(subnet netip.Prefix, used []netip.Prefix) error {
	if overlapsAny(subnet, used) {
		return errdefs.ErrPermissionDenied.WithMessage("invalid pool request: Pool overlaps with other one on this address space")
	}
	return nil
}

func overlapsAny(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if u.IsValid() && p.Overlaps(u) {
			return true
		}
	}
	return false
}
