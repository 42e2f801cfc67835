package network

import (
	"slices"
	"testing"
)

func TestResolvConf(t *testing.T) {
	host := []byte("# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nsearch example.com corp\noptions edns0 trust-ad\n")
	tests := []struct {
		name            string
		search, options []string
		want            string
	}{
		{name: "from host", want: "nameserver 127.0.0.11\nsearch example.com corp\noptions edns0 trust-ad ndots:0\n"},
		{name: "overrides", search: []string{"a.test"}, options: []string{"ndots:2"}, want: "nameserver 127.0.0.11\nsearch a.test\noptions ndots:2\n"},
		{name: "no search", search: []string{"."}, want: "nameserver 127.0.0.11\noptions edns0 trust-ad ndots:0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(ResolvConf(host, tt.search, tt.options)); got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	if got := Nameservers(host); !slices.Equal(got, []string{"127.0.0.53", "10.0.0.1"}) {
		t.Fatalf("nameservers = %v", got)
	}
}
