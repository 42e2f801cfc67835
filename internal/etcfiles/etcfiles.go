// Package etcfiles generates a container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf as docker writes them, and parses the host's resolv.conf,
// once, for them and for the embedded DNS's upstream servers. It is pure: the
// caller reads the host's files and writes the results.
package etcfiles

import (
	"bytes"
	"net/netip"
	"strings"
)

// Params describe one container's /etc files.
type Params struct {
	Hostname string
	// HostNetwork: the container shares the host's network namespace and
	// its view of names (docker's --network host).
	HostNetwork bool
	// EmbeddedDNS, when valid, is the address of the embedded resolver the
	// container uses (user-defined networks): it is the only nameserver.
	EmbeddedDNS netip.Addr
	// Hosts are the /etc/hosts entries after docker's fixed ones, in order.
	// An entry holding whitespace is a complete line ("10.0.0.5\tdb", from
	// --add-host or a link); a bare address gets the container's hostname
	// (an address of the container on a network).
	Hosts []string
	// DNS, DNSSearch and DNSOptions are --dns, --dns-search and
	// --dns-option; they replace the host's nameservers, search domains and
	// options. A search list of "." means none.
	DNS        []netip.Addr
	DNSSearch  []string
	DNSOptions []string
}

// Host is what the host contributes: its /etc/hosts (nil when unreadable)
// and its parsed resolv.conf.
type Host struct {
	Hosts      []byte
	ResolvConf *ResolvConf
}

// Files are the contents of a container's generated /etc files.
type Files struct {
	Hostname, Hosts, ResolvConf []byte
}

// Generate returns the container's /etc files.
func Generate(host Host, p Params) Files {
	rc := host.ResolvConf
	if rc == nil {
		rc = ParseResolvConf(nil)
	}
	f := Files{Hostname: []byte(p.Hostname + "\n")}
	switch {
	case p.HostNetwork:
		// the host's view of names, like docker
		f.Hosts = host.Hosts
		if f.Hosts == nil {
			f.Hosts = hostsFile(p.Hostname, nil)
		}
		f.ResolvConf = rc.raw()
		if len(p.DNS) > 0 || len(p.DNSSearch) > 0 || len(p.DNSOptions) > 0 {
			f.ResolvConf = rc.forContainer(p.DNS, p.DNSSearch, p.DNSOptions)
		}
	case p.EmbeddedDNS.IsValid():
		f.Hosts = hostsFile(p.Hostname, p.Hosts)
		f.ResolvConf = rc.forEmbeddedDNS(p.EmbeddedDNS, p.DNSSearch, p.DNSOptions)
	default:
		f.Hosts = hostsFile(p.Hostname, p.Hosts)
		f.ResolvConf = rc.forContainer(p.DNS, p.DNSSearch, p.DNSOptions)
	}
	return f
}

// hostsFile is docker's /etc/hosts: the loopback and IPv6 multicast
// entries, then extra (see Params.Hosts).
func hostsFile(hostname string, extra []string) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("ff00::0\tip6-mcastprefix\n")
	b.WriteString("ff02::1\tip6-allnodes\n")
	b.WriteString("ff02::2\tip6-allrouters\n")
	for _, e := range extra {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !strings.ContainsAny(e, " \t") {
			if hostname == "" {
				continue
			}
			e += "\t" + hostname
		}
		b.WriteString(e + "\n")
	}
	return b.Bytes()
}
