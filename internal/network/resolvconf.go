package network

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/berth-project/berth/internal/network/dns"
)

// EmbeddedDNS is the address of the embedded resolver inside containers on
// user-defined networks.
var EmbeddedDNS = dns.Address

// ResolvConf returns /etc/resolv.conf for a container that uses the
// embedded DNS (Network.EmbeddedDNS), as docker writes it: the only
// nameserver is 127.0.0.11 (the host's, or --dns, servers become its
// upstreams), the search domains are --dns-search or the host's, and the
// options are --dns-option or the host's, plus ndots:0 unless ndots is set.
func ResolvConf(host []byte, search, options []string) []byte {
	hostSearch, hostOptions := searchAndOptions(host)
	if len(search) == 0 {
		search = hostSearch
	}
	if len(options) == 0 {
		options = hostOptions
	}
	hasNdots := false
	for _, o := range options {
		if strings.HasPrefix(o, "ndots:") {
			hasNdots = true
		}
	}
	if !hasNdots {
		options = append(options, "ndots:0")
	}
	var b bytes.Buffer
	b.WriteString("nameserver " + EmbeddedDNS.String() + "\n")
	if s := strings.TrimSpace(strings.Join(search, " ")); s != "" && s != "." {
		b.WriteString("search " + s + "\n")
	}
	b.WriteString("options " + strings.Join(options, " ") + "\n")
	return b.Bytes()
}

func searchAndOptions(content []byte) (search, options []string) {
	for _, line := range strings.Split(string(content), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "search", "domain":
			search = f[1:]
		case "options":
			options = append(options, f[1:]...)
		}
	}
	return search, options
}

// Nameservers returns the nameservers of a resolv.conf, loopback ones
// included: the embedded DNS forwards from the host's namespace, where
// they are reachable.
func Nameservers(content []byte) []string {
	var ns []string
	for _, line := range strings.Split(string(content), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil {
				ns = append(ns, a.String())
			}
		}
	}
	return ns
}
