package etcfiles

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const hostResolv = "# managed\nsearch example.com corp\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver ::1\nnameserver 2001:db8::1\noptions edns0 trust-ad\n"

var embedded = netip.MustParseAddr("127.0.0.11")

// goldenCases are containers whose three files are compared with
// testdata/<case>/{hostname,hosts,resolv.conf}.
func goldenCases() map[string]struct {
	host Host
	p    Params
} {
	host := Host{Hosts: []byte("127.0.0.1\tlocalhost\n10.1.2.3\tbuildhost\n"), ResolvConf: ParseResolvConf([]byte(hostResolv))}
	loopbackOnly := Host{ResolvConf: ParseResolvConf([]byte("nameserver 127.0.0.53\noptions edns0\n"))}
	return map[string]struct {
		host Host
		p    Params
	}{
		"default-bridge":             {host, Params{Hostname: "0123456789ab", Hosts: []string{"172.17.0.2"}}},
		"add-host-and-link":          {host, Params{Hostname: "web", Hosts: []string{"10.0.0.5\tdb", "172.17.0.3\tcache other 0123456789ab", "", "172.17.0.2"}}},
		"dns-override":               {host, Params{Hostname: "web", DNS: []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("9.9.9.9")}}},
		"search-options-override":    {host, Params{Hostname: "web", DNSSearch: []string{"a.test"}, DNSOptions: []string{"ndots:2"}}},
		"loopback-only-host":         {loopbackOnly, Params{Hostname: "web"}},
		"search-dot-means-none":      {loopbackOnly, Params{Hostname: "web", DNSSearch: []string{"."}}},
		"no-host-resolv-conf":        {Host{}, Params{Hostname: "web"}},
		"embedded-dns":               {host, Params{Hostname: "web", EmbeddedDNS: embedded, Hosts: []string{"10.89.0.2"}}},
		"embedded-dns-overrides":     {host, Params{Hostname: "web", EmbeddedDNS: embedded, DNS: []netip.Addr{netip.MustParseAddr("1.1.1.1")}, DNSSearch: []string{"a.test"}, DNSOptions: []string{"ndots:2"}}},
		"embedded-dns-no-search":     {host, Params{Hostname: "web", EmbeddedDNS: embedded, DNSSearch: []string{"."}}},
		"host-network":               {host, Params{Hostname: "buildhost", HostNetwork: true, Hosts: []string{"10.0.0.5\tignored"}}},
		"host-network-dns":           {host, Params{Hostname: "buildhost", HostNetwork: true, DNS: []netip.Addr{netip.MustParseAddr("1.1.1.1")}}},
		"host-network-no-host-files": {Host{}, Params{Hostname: "buildhost", HostNetwork: true}},
	}
}

func TestGenerateGolden(t *testing.T) {
	for name, tc := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			got := Generate(tc.host, tc.p)
			dir := filepath.Join("testdata", name)
			for file, data := range map[string][]byte{"hostname": got.Hostname, "hosts": got.Hosts, "resolv.conf": got.ResolvConf} {
				path := filepath.Join(dir, file)
				if *update {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(data, want) {
					t.Errorf("%s differs (run go test -update if intended):\ngot:\n%s\nwant:\n%s", path, data, want)
				}
			}
		})
	}
}

func TestParseResolvConf(t *testing.T) {
	r := ParseResolvConf([]byte(hostResolv + "domain last.test\noptions rotate\nnameserver not-an-address\n"))
	if got := r.Upstreams(); !slices.Equal(got, []string{"127.0.0.53", "10.0.0.1", "::1", "2001:db8::1"}) {
		t.Errorf("upstreams = %v", got)
	}
	if !slices.Equal(r.Search, []string{"last.test"}) {
		t.Errorf("search = %v, want the last line's", r.Search)
	}
	if !slices.Equal(r.Options, []string{"edns0", "trust-ad", "rotate"}) {
		t.Errorf("options = %v", r.Options)
	}
	if got := ParseResolvConf(nil).Upstreams(); got != nil {
		t.Errorf("empty file: upstreams = %v", got)
	}
}
