package ipam

import (
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

// NextSubnet returns the first subnet of pools that overlaps none of used
// (the subnets of existing networks and the host's routes).
func NextSubnet(pools []PoolSpec, used []netip.Prefix) (netip.Prefix, error) {
	for _, spec := range pools {
		base := spec.Base.Masked()
		if spec.Size < base.Bits() || spec.Size > 30 {
			continue
		}
		step := uint64(1) << (32 - spec.Size)
		count := uint64(1) << (spec.Size - base.Bits())
		start := toUint(base.Addr())
		for i := uint64(0); i < count; i++ {
			cand := netip.PrefixFrom(fromUint(uint32(uint64(start)+i*step)), spec.Size)
			if !overlapsAny(cand, used) {
				return cand, nil
			}
		}
	}
	return netip.Prefix{}, errdefs.ErrUnavailable.WithMessage("all predefined address pools have been fully subnetted")
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

func toUint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func fromUint(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
