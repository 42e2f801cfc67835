package dns

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzQuery sends raw packets to the embedded resolver over UDP or TCP,
// with a loopback upstream for the names it does not know: after each one
// the resolver still answers a good query for a container's name.
func FuzzQuery(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"web.", dns.TypeA}, {"web.", dns.TypeAAAA}, {"WEB.", dns.TypeANY}, {"elsewhere.example.", dns.TypeA},
		{"2.0.17.172.in-addr.arpa.", dns.TypePTR}, {"1.2.3.4.5.in-addr.arpa.", dns.TypePTR},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", dns.TypePTR},
		{"x.ip6.arpa.", dns.TypePTR}, {".", dns.TypeMX},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	two := new(dns.Msg)
	two.SetQuestion("web.", dns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	b, _ := two.Pack()
	f.Add(b, false)
	f.Add([]byte{}, false)
	f.Add([]byte{0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c}, true)

	upstream := &Server{resolver: table{"elsewhere.example": {netip.MustParseAddr("192.0.2.1")}}, timeout: time.Second}
	up := serve(f, upstream)
	s := NewServer(table{"web": {netip.MustParseAddr("172.17.0.2"), netip.MustParseAddr("fd00::2")}}, []string{up})
	s.timeout = time.Second
	addr := serve(f, s)
	f.Fuzz(func(t *testing.T, packet []byte, tcp bool) {
		if tcp {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			msg := binary.BigEndian.AppendUint16(nil, uint16(len(packet)))
			_, _ = c.Write(append(msg, packet...))
			_, _ = c.Read(make([]byte, 1))
			c.Close()
		} else {
			c, err := net.Dial("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = c.Write(packet)
			c.Close()
		}
		m := new(dns.Msg)
		m.SetQuestion("web.", dns.TypeA)
		resp, err := dns.Exchange(m, addr)
		if err != nil || len(resp.Answer) != 1 {
			t.Fatalf("the resolver stopped answering: %v %v", resp, err)
		}
	})
}

// FuzzReverseAddr checks that a reverse name the resolver accepts is the
// reverse name of the address it parsed to.
func FuzzReverseAddr(f *testing.F) {
	for _, n := range []string{"2.0.17.172.in-addr.arpa", "1.2.3.in-addr.arpa", "01.2.3.4.in-addr.arpa",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", "g.ip6.arpa"} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, name string) {
		a, ok := reverseAddr(name)
		if !ok {
			return
		}
		want, err := dns.ReverseAddr(a.String())
		if err != nil {
			t.Fatalf("%q parsed to %v: %v", name, a, err)
		}
		if !strings.EqualFold(want, name+".") { // the resolver lowercases names first
			t.Fatalf("%q parsed to %v, whose reverse name is %q", name, a, want)
		}
	})
}
