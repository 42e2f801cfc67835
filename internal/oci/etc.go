package oci

import (
	"bytes"
	"net/netip"
	"strings"
)

// HostsFile returns docker's /etc/hosts for a container: the loopback and
// IPv6 multicast entries, then extra. An extra entry holding whitespace is a
// complete line ("10.0.0.5\tdb", from --add-host); a bare address gets the
// container's hostname ("<ip>\t<hostname>", for an address on a network).
func HostsFile(hostname string, extra []string) []byte {
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

// defaultNameservers are docker's fallback when the host's resolv.conf
// leaves the container no usable nameserver.
var defaultNameservers = []string{"8.8.8.8", "8.8.4.4"}

// ResolvConf returns a container's /etc/resolv.conf derived from the host's,
// as docker does for a container with its own network namespace: loopback
// nameservers (127.0.0.0/8, ::1: a resolver on the host's loopback is out
// of reach) and IPv6 ones (berth networks have no IPv6) are dropped, and
// docker's public fallback nameservers are used when none remain. --dns,
// --dns-search and --dns-option replace the host's nameservers, search
// domains and options; a search list of "." means none.
func ResolvConf(host []byte, dns []netip.Addr, search, options []string) []byte {
	if len(dns) == 0 && len(search) == 0 && len(options) == 0 {
		return filterResolvConf(host)
	}
	hostNS, hostSearch, hostOptions := parseResolvConf(host)
	ns := hostNS
	if len(dns) > 0 {
		ns = ns[:0:0]
		for _, a := range dns {
			ns = append(ns, a.String())
		}
	}
	if len(ns) == 0 {
		ns = defaultNameservers
	}
	if len(search) == 0 {
		search = hostSearch
	}
	if len(options) == 0 {
		options = hostOptions
	}
	var b bytes.Buffer
	if s := strings.TrimSpace(strings.Join(search, " ")); s != "" && s != "." {
		b.WriteString("search " + s + "\n")
	}
	for _, n := range ns {
		b.WriteString("nameserver " + n + "\n")
	}
	if o := strings.TrimSpace(strings.Join(options, " ")); o != "" {
		b.WriteString("options " + o + "\n")
	}
	return b.Bytes()
}

// filterResolvConf keeps the host's file, minus unusable nameservers.
func filterResolvConf(host []byte) []byte {
	var b bytes.Buffer
	kept := 0
	for _, line := range strings.Split(string(host), "\n") {
		if addr, ok := nameserver(line); ok {
			if !usable(addr) {
				continue
			}
			kept++
		}
		b.WriteString(line + "\n")
	}
	out := bytes.TrimRight(b.Bytes(), "\n")
	if len(out) > 0 {
		out = append(out, '\n')
	}
	if kept == 0 {
		for _, n := range defaultNameservers {
			out = append(out, "nameserver "+n+"\n"...)
		}
	}
	return out
}

// parseResolvConf returns the usable nameservers, the search domains and
// the options of a resolv.conf.
func parseResolvConf(content []byte) (ns, search, options []string) {
	for _, line := range strings.Split(string(content), "\n") {
		if addr, ok := nameserver(line); ok {
			if usable(addr) {
				ns = append(ns, addr.String())
			}
			continue
		}
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
	return ns, search, options
}

func nameserver(line string) (netip.Addr, bool) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "nameserver" {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(f[1])
	if err != nil {
		return netip.Addr{}, false
	}
	return addr, true
}

func usable(a netip.Addr) bool {
	return !a.IsLoopback() && !a.Unmap().Is6()
}
