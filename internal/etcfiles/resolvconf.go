package etcfiles

import (
	"bytes"
	"net/netip"
	"strings"
)

// ResolvConf is a parsed resolv.conf. The host's is parsed once per use:
// for the containers' files and for the embedded DNS's upstreams.
type ResolvConf struct {
	lines []resolvLine
	// Nameservers are every nameserver, in order, loopback ones included.
	Nameservers []netip.Addr
	// Search is the last search (or domain) line's domains.
	Search []string
	// Options are the options of every options line.
	Options []string
}

// resolvLine is one line as written, with its nameserver if it is one.
type resolvLine struct {
	text string
	ns   netip.Addr
}

// ParseResolvConf parses a resolv.conf; lines it does not understand are
// kept as they are.
func ParseResolvConf(data []byte) *ResolvConf {
	r := &ResolvConf{}
	if len(data) == 0 {
		return r
	}
	for _, text := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		line := resolvLine{text: text}
		f := strings.Fields(text)
		switch {
		case len(f) == 0:
		case f[0] == "nameserver":
			if len(f) >= 2 {
				if a, err := netip.ParseAddr(f[1]); err == nil {
					line.ns = a
					r.Nameservers = append(r.Nameservers, a)
				}
			}
		case f[0] == "search", f[0] == "domain":
			r.Search = f[1:]
		case f[0] == "options":
			r.Options = append(r.Options, f[1:]...)
		}
		r.lines = append(r.lines, line)
	}
	return r
}

// Upstreams are the servers the embedded DNS forwards to: every nameserver,
// loopback ones included, since it forwards from the host's namespace,
// where they are reachable.
func (r *ResolvConf) Upstreams() []string {
	var out []string
	for _, a := range r.Nameservers {
		out = append(out, a.String())
	}
	return out
}

// defaultNameservers are docker's fallback when the host's resolv.conf
// leaves the container no usable nameserver.
var defaultNameservers = []string{"8.8.8.8", "8.8.4.4"}

// usable reports whether a container with its own network namespace can
// reach a host's nameserver: one on the host's loopback is out of reach,
// and berth networks have no IPv6.
func usable(a netip.Addr) bool {
	return !a.IsLoopback() && !a.Unmap().Is6()
}

// raw is the file as parsed.
func (r *ResolvConf) raw() []byte {
	var b bytes.Buffer
	for _, l := range r.lines {
		b.WriteString(l.text + "\n")
	}
	return b.Bytes()
}

// forContainer is the resolv.conf of a container with its own network
// namespace, as docker derives it from the host's: unusable nameservers are
// dropped, docker's public fallback used when none remain; dns, search and
// options replace the host's.
func (r *ResolvConf) forContainer(dns []netip.Addr, search, options []string) []byte {
	if len(dns) == 0 && len(search) == 0 && len(options) == 0 {
		return r.filtered()
	}
	var ns []string
	for _, a := range dns {
		ns = append(ns, a.String())
	}
	if len(dns) == 0 {
		for _, a := range r.Nameservers {
			if usable(a) {
				ns = append(ns, a.String())
			}
		}
	}
	if len(ns) == 0 {
		ns = defaultNameservers
	}
	if len(search) == 0 {
		search = r.Search
	}
	if len(options) == 0 {
		options = r.Options
	}
	var b bytes.Buffer
	writeSearch(&b, search)
	for _, n := range ns {
		b.WriteString("nameserver " + n + "\n")
	}
	if o := strings.TrimSpace(strings.Join(options, " ")); o != "" {
		b.WriteString("options " + o + "\n")
	}
	return b.Bytes()
}

// filtered keeps the host's file, minus unusable nameservers.
func (r *ResolvConf) filtered() []byte {
	var b bytes.Buffer
	kept := 0
	for _, l := range r.lines {
		if l.ns.IsValid() {
			if !usable(l.ns) {
				continue
			}
			kept++
		}
		b.WriteString(l.text + "\n")
	}
	if kept == 0 {
		for _, n := range defaultNameservers {
			b.WriteString("nameserver " + n + "\n")
		}
	}
	return b.Bytes()
}

// forEmbeddedDNS is the resolv.conf of a container using the embedded
// resolver at addr, as docker writes it: addr is the only nameserver (the
// host's, or --dns, servers become its upstreams), the search domains are
// search or the host's, and the options are options or the host's, plus
// ndots:0 unless ndots is set.
func (r *ResolvConf) forEmbeddedDNS(addr netip.Addr, search, options []string) []byte {
	if len(search) == 0 {
		search = r.Search
	}
	if len(options) == 0 {
		options = r.Options
	}
	hasNdots := false
	for _, o := range options {
		if strings.HasPrefix(o, "ndots:") {
			hasNdots = true
		}
	}
	if !hasNdots {
		options = append(options[:len(options):len(options)], "ndots:0")
	}
	var b bytes.Buffer
	b.WriteString("nameserver " + addr.String() + "\n")
	writeSearch(&b, search)
	b.WriteString("options " + strings.Join(options, " ") + "\n")
	return b.Bytes()
}

func writeSearch(b *bytes.Buffer, search []string) {
	if s := strings.TrimSpace(strings.Join(search, " ")); s != "" && s != "." {
		b.WriteString("search " + s + "\n")
	}
}
