// Package dns is berth's embedded DNS resolver, the one containers on
// user-defined networks reach at 127.0.0.11. It answers A and PTR queries
// for the names a Resolver knows (container names, short ids, aliases) and
// forwards every other question to upstream servers. It owns no sockets of
// its own making: the caller creates the listeners (inside a container's
// network namespace) and hands them to Serve.
package dns

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Address is where containers find the embedded resolver.
var Address = netip.MustParseAddr("127.0.0.11")

// ttl is docker's TTL for the names it answers itself.
const ttl = 600

// Resolver answers for the names berth knows.
type Resolver interface {
	// LookupIP returns the addresses, IPv4 and IPv6, of name (lower case,
	// without the trailing dot); ok is false when the name is not one of
	// berth's, and the question is forwarded.
	LookupIP(name string) (addrs []netip.Addr, ok bool)
	// LookupPTR returns the names (without the trailing dot) of addr.
	LookupPTR(addr netip.Addr) []string
}

// Server serves DNS on the listeners given to Serve.
type Server struct {
	resolver  Resolver
	upstreams []string // host:port
	timeout   time.Duration

	mu      sync.Mutex
	servers []*dns.Server
}

// NewServer returns a server answering from r and forwarding other
// questions to upstreams ("1.2.3.4" or "1.2.3.4:53"); with no upstreams,
// other questions get SERVFAIL.
func NewServer(r Resolver, upstreams []string) *Server {
	s := &Server{resolver: r, timeout: 4 * time.Second}
	for _, u := range upstreams {
		if _, _, err := net.SplitHostPort(u); err != nil {
			u = net.JoinHostPort(u, "53")
		}
		s.upstreams = append(s.upstreams, u)
	}
	return s
}

// Serve starts answering on udp and tcp (either may be nil) and returns at
// once; the server owns the listeners from then on.
func (s *Server) Serve(udp net.PacketConn, tcp net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := dns.HandlerFunc(s.handle)
	if udp != nil {
		srv := &dns.Server{PacketConn: udp, Handler: h}
		s.servers = append(s.servers, srv)
		go func() { _ = srv.ActivateAndServe() }()
	}
	if tcp != nil {
		srv := &dns.Server{Listener: tcp, Handler: h}
		s.servers = append(s.servers, srv)
		go func() { _ = srv.ActivateAndServe() }()
	}
}

// Shutdown stops serving and closes the listeners. Idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	for _, srv := range servers {
		if err := srv.ShutdownContext(ctx); err != nil {
			// not started yet or already down: close the sockets ourselves
			if srv.PacketConn != nil {
				_ = srv.PacketConn.Close()
			}
			if srv.Listener != nil {
				_ = srv.Listener.Close()
			}
		}
	}
	return nil
}

func (s *Server) handle(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		s.reply(w, req, dns.RcodeFormatError)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	switch {
	case q.Qclass != dns.ClassINET:
	case q.Qtype == dns.TypePTR:
		if addr, ok := reverseAddr(name); ok {
			if names := s.resolver.LookupPTR(addr); len(names) > 0 {
				m := new(dns.Msg)
				m.SetReply(req)
				m.Authoritative = true
				for _, n := range names {
					m.Answer = append(m.Answer, &dns.PTR{Hdr: hdr(q.Name, dns.TypePTR), Ptr: dns.Fqdn(n)})
				}
				_ = w.WriteMsg(m)
				return
			}
		}
	default:
		if addrs, ok := s.resolver.LookupIP(name); ok {
			m := new(dns.Msg)
			m.SetReply(req)
			m.Authoritative = true
			m.RecursionAvailable = true
			// other types of a known name, or a family it has no address
			// of: NOERROR with no answer, like docker
			m.Answer = records(q, addrs)
			_ = w.WriteMsg(m)
			return
		}
	}
	s.forward(w, req)
}

// records are the A or AAAA records of addrs that q asks for, in a random
// order: every client takes the first, so a name several containers share
// (an alias) spreads the load over them, as docker's resolver shuffles.
func records(q dns.Question, addrs []netip.Addr) []dns.RR {
	var rrs []dns.RR
	for _, a := range addrs {
		switch {
		case a.Is4() && (q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY):
			ip := a.As4()
			rrs = append(rrs, &dns.A{Hdr: hdr(q.Name, dns.TypeA), A: net.IP(ip[:])})
		case a.Is6() && (q.Qtype == dns.TypeAAAA || q.Qtype == dns.TypeANY):
			ip := a.As16()
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(q.Name, dns.TypeAAAA), AAAA: net.IP(ip[:])})
		}
	}
	rand.Shuffle(len(rrs), func(i, j int) { rrs[i], rrs[j] = rrs[j], rrs[i] })
	return rrs
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

func (s *Server) reply(w dns.ResponseWriter, req *dns.Msg, rcode int) {
	m := new(dns.Msg)
	m.SetRcode(req, rcode)
	_ = w.WriteMsg(m)
}

// forward asks the upstreams in turn, over the protocol the client used.
func (s *Server) forward(w dns.ResponseWriter, req *dns.Msg) {
	if len(s.upstreams) == 0 {
		s.reply(w, req, dns.RcodeServerFailure)
		return
	}
	proto := "udp"
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		proto = "tcp"
	}
	c := &dns.Client{Net: proto, Timeout: s.timeout}
	for _, u := range s.upstreams {
		resp, _, err := c.Exchange(req, u)
		if err != nil || resp == nil {
			continue
		}
		_ = w.WriteMsg(resp)
		return
	}
	s.reply(w, req, dns.RcodeServerFailure)
}

// reverseAddr parses "4.3.2.1.in-addr.arpa" and the nibbles of
// "....ip6.arpa".
func reverseAddr(name string) (netip.Addr, bool) {
	if rest, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		parts := strings.Split(rest, ".")
		if len(parts) != 4 {
			return netip.Addr{}, false
		}
		slices.Reverse(parts)
		a, err := netip.ParseAddr(strings.Join(parts, "."))
		return a, err == nil && a.Is4()
	}
	rest, ok := strings.CutSuffix(name, ".ip6.arpa")
	if !ok {
		return netip.Addr{}, false
	}
	nibbles := strings.Split(rest, ".")
	if len(nibbles) != 32 {
		return netip.Addr{}, false
	}
	var b [16]byte
	for i, n := range nibbles {
		v, err := strconv.ParseUint(n, 16, 4)
		if err != nil || len(n) != 1 {
			return netip.Addr{}, false
		}
		pos := 31 - i // the last nibble of the name is the first of the address
		b[pos/2] |= byte(v) << (4 * (1 - pos%2))
	}
	return netip.AddrFrom16(b), true
}
