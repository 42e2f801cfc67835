package oci

import (
	"net/netip"
	"testing"
)

func TestHostsFile(t *testing.T) {
	const base = "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\n" +
		"ff00::0\tip6-mcastprefix\n" +
		"ff02::1\tip6-allnodes\n" +
		"ff02::2\tip6-allrouters\n"
	tests := []struct {
		name  string
		extra []string
		want  string
	}{
		{"none", nil, base},
		{"address gets hostname", []string{"172.17.0.2"}, base + "172.17.0.2\tweb\n"},
		{"full lines kept", []string{"10.0.0.5\tdb", "10.0.0.6 cache cache.local", ""}, base + "10.0.0.5\tdb\n10.0.0.6 cache cache.local\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(HostsFile("web", tc.extra)); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestResolvConf(t *testing.T) {
	const host = "# managed\nsearch example.com corp\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver ::1\nnameserver 2001:db8::1\noptions edns0 trust-ad\n"
	const loopbackOnly = "nameserver 127.0.0.53\noptions edns0\n"
	tests := []struct {
		name    string
		host    string
		dns     []netip.Addr
		search  []string
		options []string
		want    string
	}{
		{name: "filter", host: host,
			want: "# managed\nsearch example.com corp\nnameserver 10.0.0.1\noptions edns0 trust-ad\n"},
		{name: "fallback", host: loopbackOnly,
			want: "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{name: "empty host", host: "",
			want: "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
		{name: "dns override", host: host, dns: []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("9.9.9.9")},
			want: "search example.com corp\nnameserver 1.1.1.1\nnameserver 9.9.9.9\noptions edns0 trust-ad\n"},
		{name: "search and options override", host: host, search: []string{"a.test"}, options: []string{"ndots:2"},
			want: "search a.test\nnameserver 10.0.0.1\noptions ndots:2\n"},
		{name: "search dot means none", host: loopbackOnly, search: []string{"."},
			want: "nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(ResolvConf([]byte(tc.host), tc.dns, tc.search, tc.options)); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
