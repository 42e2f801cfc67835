package firewall

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// rule builds the expressions of one nftables rule, the way nft's syntax
// reads: each method appends one match or statement.
type rule []expr.Any

var loopback = netip.MustParsePrefix("127.0.0.0/8")

const (
	ctEstablished = 1 << 1 // NF_CT_STATE_BIT(IP_CT_ESTABLISHED)
	ctRelated     = 1 << 2
	ipsDstNAT     = 1 << 5 // IPS_DST_NAT
)

func (r rule) with(e ...expr.Any) rule { return append(append(rule{}, r...), e...) }

// ifname pads an interface name as the kernel stores it (IFNAMSIZ).
func ifname(n string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, n)
	return b
}

func cmpOp(eq bool) expr.CmpOp {
	if eq {
		return expr.CmpOpEq
	}
	return expr.CmpOpNeq
}

func (r rule) iifname(n string, eq bool) rule {
	return r.with(&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, &expr.Cmp{Op: cmpOp(eq), Register: 1, Data: ifname(n)})
}

func (r rule) oifname(n string, eq bool) rule {
	return r.with(&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1}, &expr.Cmp{Op: cmpOp(eq), Register: 1, Data: ifname(n)})
}

// ipPrefix matches the IPv4 or IPv6 source or destination address against
// p: equal (eq) or not.
func (r rule) ipPrefix(src bool, p netip.Prefix, eq bool) rule {
	p = p.Masked()
	offset, n := uint32(16), uint32(4) // IPv4 daddr
	switch {
	case p.Addr().Is6() && src:
		offset, n = 8, 16
	case p.Addr().Is6():
		offset, n = 24, 16
	case src:
		offset = 12
	}
	r = r.with(&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: n})
	if p.Bits() < p.Addr().BitLen() {
		full := make([]byte, n)
		for i := range full {
			full[i] = 0xff
		}
		ones, _ := netip.AddrFromSlice(full)
		mask := netip.PrefixFrom(ones, p.Bits()).Masked().Addr().AsSlice()
		r = r.with(&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: n, Mask: mask, Xor: make([]byte, n)})
	}
	return r.with(&expr.Cmp{Op: cmpOp(eq), Register: 1, Data: p.Addr().AsSlice()})
}

func (r rule) ipSaddr(p netip.Prefix) rule { return r.ipPrefix(true, p, true) }

func (r rule) ipDaddr(a netip.Addr) rule {
	return r.ipPrefix(false, netip.PrefixFrom(a, a.BitLen()), true)
}

func (r rule) ipDaddrNot(a netip.Addr) rule {
	return r.ipPrefix(false, netip.PrefixFrom(a, a.BitLen()), false)
}

func (r rule) l4proto(proto string) rule {
	var n byte
	switch proto {
	case "udp":
		n = unix.IPPROTO_UDP
	case "sctp":
		n = unix.IPPROTO_SCTP
	default:
		n = unix.IPPROTO_TCP
	}
	return r.with(&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{n}})
}

// dport matches the transport destination port (tcp, udp and sctp all keep
// it at offset 2).
func (r rule) dport(p uint16) rule {
	return r.with(
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, p)},
	)
}

func (r rule) fibDaddrType(t uint32) rule {
	return r.with(
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.NativeEndian.AppendUint32(nil, t)},
	)
}

func (r rule) ctBits(key expr.CtKey, bits uint32) rule {
	return r.with(
		&expr.Ct{Register: 1, Key: key},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: binary.NativeEndian.AppendUint32(nil, bits), Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
	)
}

func (r rule) ctState(bits uint32) rule { return r.ctBits(expr.CtKeySTATE, bits) }

func (r rule) ctStatusDNAT() rule { return r.ctBits(expr.CtKeySTATUS, ipsDstNAT) }

func (r rule) dnat(a netip.Addr, port uint16) rule {
	family := uint32(unix.NFPROTO_IPV4)
	if a.Is6() {
		family = unix.NFPROTO_IPV6
	}
	return r.with(
		&expr.Immediate{Register: 1, Data: a.AsSlice()},
		&expr.Immediate{Register: 2, Data: binary.BigEndian.AppendUint16(nil, port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: family, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	)
}

func (r rule) masquerade() rule { return r.with(&expr.Masq{}) }

func (r rule) accept() rule { return r.with(&expr.Verdict{Kind: expr.VerdictAccept}) }

func (r rule) drop() rule { return r.with(&expr.Verdict{Kind: expr.VerdictDrop}) }

func (r rule) jump(chain string) rule {
	return r.with(&expr.Verdict{Kind: expr.VerdictJump, Chain: chain})
}
