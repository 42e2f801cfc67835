package dns

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

type table map[string][]netip.Addr

func (t table) LookupIP(name string) ([]netip.Addr, bool) { a, ok := t[name]; return a, ok }

func (t table) LookupPTR(addr netip.Addr) []string {
	for n, as := range t {
		if slices.Contains(as, addr) && len(as) == 1 {
			return []string{n + ".net"}
		}
	}
	return nil
}

// serve starts s on loopback and returns its address.
func serve(t testing.TB, s *Server) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	s.Serve(pc, l)
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return pc.LocalAddr().String()
}

func query(t *testing.T, proto, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: proto}
	resp, _, err := c.Exchange(m, server)
	if err != nil {
		t.Fatalf("query %s %s: %v", proto, name, err)
	}
	return resp
}

func answers(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch r := rr.(type) {
		case *dns.A:
			out = append(out, r.A.String())
		case *dns.AAAA:
			out = append(out, r.AAAA.String())
		case *dns.PTR:
			out = append(out, r.Ptr)
		}
	}
	return out
}

func TestServer(t *testing.T) {
	a1, a2 := netip.MustParseAddr("10.1.0.2"), netip.MustParseAddr("10.1.0.3")
	v6 := netip.MustParseAddr("fd12:3456:789a:1::2")
	upstream := NewServer(table{"outside.example": {netip.MustParseAddr("10.99.0.1")}}, nil)
	up := serve(t, upstream)
	s := NewServer(table{"web": {a1}, "search": {a1, a2}, "dual": {v6}}, []string{up})
	addr := serve(t, s)

	tests := []struct {
		name, proto, q string
		qtype          uint16
		want           []string
		rcode          int
	}{
		{name: "container name", proto: "udp", q: "web", qtype: dns.TypeA, want: []string{"10.1.0.2"}},
		{name: "case and tcp", proto: "tcp", q: "WEB.", qtype: dns.TypeA, want: []string{"10.1.0.2"}},
		{name: "aaaa of a name without ipv6", proto: "udp", q: "web", qtype: dns.TypeAAAA, want: nil},
		{name: "aaaa", proto: "udp", q: "dual", qtype: dns.TypeAAAA, want: []string{"fd12:3456:789a:1::2"}},
		{name: "a of a name with ipv6 only", proto: "udp", q: "dual", qtype: dns.TypeA, want: nil},
		{name: "ptr ipv6", proto: "udp", q: "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.a.9.8.7.6.5.4.3.2.1.d.f.ip6.arpa", qtype: dns.TypePTR, want: []string{"dual.net."}},
		{name: "ptr", proto: "udp", q: "2.0.1.10.in-addr.arpa", qtype: dns.TypePTR, want: []string{"web.net."}},
		{name: "forwarded", proto: "udp", q: "outside.example", qtype: dns.TypeA, want: []string{"10.99.0.1"}},
		{name: "forwarded tcp", proto: "tcp", q: "outside.example", qtype: dns.TypeA, want: []string{"10.99.0.1"}},
		{name: "unknown", proto: "udp", q: "nope", qtype: dns.TypeA, rcode: dns.RcodeServerFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := query(t, tt.proto, addr, tt.q, tt.qtype)
			if resp.Rcode != tt.rcode {
				t.Fatalf("rcode = %d, want %d", resp.Rcode, tt.rcode)
			}
			if got := answers(resp); !slices.Equal(got, tt.want) {
				t.Fatalf("answers = %v, want %v", got, tt.want)
			}
		})
	}

	// every query is shuffled anew, so even the first query of each of
	// many fresh clients spreads over an alias's members
	t.Run("alias shuffles", func(t *testing.T) {
		members := []netip.Addr{a1, a2, netip.MustParseAddr("10.1.0.4")}
		addr := serve(t, NewServer(table{"many": members}, nil))
		firsts := map[string]int{}
		for range 50 {
			got := answers(query(t, "udp", addr, "many", dns.TypeA))
			if len(got) != len(members) {
				t.Fatalf("answers = %v", got)
			}
			firsts[got[0]]++
		}
		for _, m := range members {
			if firsts[m.String()] == 0 {
				t.Fatalf("%s never came first in 50 queries: %v", m, firsts)
			}
		}
	})
}

func TestReverseAddr(t *testing.T) {
	for _, tt := range []struct {
		name string
		want string
	}{
		{"4.3.2.1.in-addr.arpa", "1.2.3.4"},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", "fd00::1"},
		{"3.2.1.in-addr.arpa", ""},
		{"x.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", ""},
		{"0.d.f.ip6.arpa", ""},
		{"example.com", ""},
	} {
		a, ok := reverseAddr(tt.name)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("reverseAddr(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
