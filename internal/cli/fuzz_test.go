package cli

import (
	"strings"
	"testing"
)

// FuzzParsePorts feeds -p and --expose values (docker's short and long
// syntaxes, ranges, IPv4 and IPv6 host addresses) to the CLI's parser: an
// error or ports that are whole, never a panic.
func FuzzParsePorts(f *testing.F) {
	for _, s := range [][2]string{
		{"8080:80", ""}, {"80", "443"}, {"127.0.0.1:8080:80/udp", "53/udp"}, {"[::1]:80:80", ""},
		{"1000-1010:2000-2010", "1-65535"}, {"target=80,published=8080,protocol=udp", ""},
		{"::80", ""}, {":::80", "80-"}, {"0.0.0.0::80/sctp", "70000"}, {"8080-8079:80", "-1"},
		{"target=,published=x", "80/"}, {"[fe80::1%eth0]:80:80", ""}, {"1.2.3.4:5:6:7", "a:b"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, publish, expose string) {
		ports, bindings, err := parsePorts(strings.Split(publish, " "), strings.Split(expose, " "))
		if err != nil {
			return
		}
		for p, bs := range bindings {
			if _, ok := ports[p]; !ok {
				t.Fatalf("binding %v for %s is not an exposed port (%v)", bs, p, ports)
			}
		}
	})
}

// FuzzParseVolumes feeds -v values to the CLI's parser.
func FuzzParseVolumes(f *testing.F) {
	for _, s := range []string{"/data", "vol:/data", "/host:/data:ro", "./rel:/data:rw,z", "a:b:c:d", ":/x", "x::y", "/::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		_, _, _ = parseVolumes(strings.Split(spec, "\n"))
	})
}

// FuzzParseMount feeds --mount values (CSV) to the CLI's parser: an error,
// or a mount with a target whose options match its type.
func FuzzParseMount(f *testing.F) {
	for _, s := range []string{
		"type=bind,source=/a,target=/b,readonly", "type=volume,src=v,dst=/d,volume-nocopy=true",
		"type=tmpfs,target=/t,tmpfs-size=1g,tmpfs-mode=1777", `"type=bind,src=/a,b",target=/x`,
		"type=bind,target=/x,bind-propagation=rshared", "target", "ro=maybe", "tmpfs-size=-1,target=/x",
		"type=tmpfs,target=/t,tmpfs-size=99999999999999999999g", "\"unterminated", "type=npipe,target=/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		m, err := parseMount(value)
		if err != nil {
			return
		}
		if m.Target == "" {
			t.Fatalf("%q: mount without a target: %+v", value, m)
		}
	})
}
