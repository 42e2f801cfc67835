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

// ipAddr matches the IPv4 source (offset 12) or destination (16) against p.
func (r rule) ipPrefix(offset uint32, p netip.Prefix) rule {
	p = p.Masked()
	r = r.with(&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4})
	if p.Bits() < 32 {
		mask := netip.PrefixFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), p.Bits()).Masked().Addr().As4()
		r = r.with(&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask[:], Xor: []byte{0, 0, 0, 0}})
	}
	a := p.Addr().As4()
	return r.with(&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a[:]})
}

func (r rule) ipSaddr(p netip.Prefix) rule { return r.ipPrefix(12, p) }

func (r rule) ipDaddr(a netip.Addr) rule { return r.ipPrefix(16, netip.PrefixFrom(a, 32)) }

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
	ip := a.As4()
	return r.with(
		&expr.Immediate{Register: 1, Data: ip[:]},
		&expr.Immediate{Register: 2, Data: binary.BigEndian.AppendUint16(nil, port)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	)
}

func (r rule) masquerade() rule { return r.with(&expr.Masq{}) }

func (r rule) accept() rule { return r.with(&expr.Verdict{Kind: expr.VerdictAccept}) }

func (r rule) drop() rule { return r.with(&expr.Verdict{Kind: expr.VerdictDrop}) }

func (r rule) jump(chain string) rule {
	return r.with(&expr.Verdict{Kind: expr.VerdictJump, Chain: chain})
}
