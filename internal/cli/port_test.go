package cli

import (
	"net/http"
	"slices"
	"sort"
	"testing"
)

// portInspectJSON is a container inspect answer with published ports; the
// expected outputs below are docker 28.2.2's on the same answer.
const portInspectJSON = `{"Id":"abc","Name":"/x","NetworkSettings":{"Ports":{
"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"32768"},{"HostIp":"::","HostPort":"32768"}],
"9/tcp":[{"HostIp":"0.0.0.0","HostPort":"10"}],
"443/tcp":null,
"53/udp":[{"HostIp":"127.0.0.1","HostPort":"5353"}]}}}`

func TestPortCommand(t *testing.T) {
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"GET /containers/x/json":     replyJSON(200, portInspectJSON),
		"GET /containers/bare/json":  replyJSON(200, `{"Id":"def","Name":"/bare","NetworkSettings":null}`),
		"GET /containers/ghost/json": replyJSON(404, `{"message":"No such container: ghost"}`),
	})
	tests := []struct {
		args     []string
		out, err string
		code     int
	}{
		{[]string{"port", "x"}, "9/tcp -> 0.0.0.0:10\n53/udp -> 127.0.0.1:5353\n80/tcp -> 0.0.0.0:32768\n80/tcp -> [::]:32768\n", "", 0},
		{[]string{"container", "port", "x", "80"}, "0.0.0.0:32768\n[::]:32768\n", "", 0},
		{[]string{"port", "x", "53/udp"}, "127.0.0.1:5353\n", "", 0},
		{[]string{"port", "x", "81"}, "", "Error: No public port '81' published for x\n", 1},
		{[]string{"port", "x", "81/tcp"}, "", "Error: No public port '81/tcp' published for x\n", 1},
		{[]string{"port", "x", "443"}, "", "Error: No public port '443' published for x\n", 1},
		{[]string{"port", "x", "53"}, "", "Error: No public port '53' published for x\n", 1},
		{[]string{"port", "bare"}, "", "", 0},
		{[]string{"port", "ghost"}, "", "Error response from daemon: No such container: ghost\n", 1},
		{[]string{"port", "x", "http"}, "", "invalid port 'http': invalid syntax\n", 1},
		{[]string{"port"}, "", "berth: 'berth port' requires at least 1 and at most 2 arguments\n\nUsage:  berth port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nRun 'berth port --help' for more information\n", 1},
	}
	for _, tt := range tests {
		out, errOut, code := stub.run(t, "", tt.args...)
		if out != tt.out || errOut != tt.err || code != tt.code {
			t.Errorf("%v: code %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, code, out, errOut, tt.code, tt.out, tt.err)
		}
	}
}

func TestNaturalLess(t *testing.T) {
	in := []string{"net10", "80/tcp -> 0.0.0.0:1", "net9", "9/tcp -> x", "net", "a2b10", "a2b9", "net09", "53/udp -> y"}
	want := []string{"9/tcp -> x", "53/udp -> y", "80/tcp -> 0.0.0.0:1", "a2b9", "a2b10", "net", "net9", "net09", "net10"}
	got := slices.Clone(in)
	sort.Slice(got, func(i, j int) bool { return naturalLess(got[i], got[j]) })
	if !slices.Equal(got, want) {
		t.Errorf("natural order %q, want %q", got, want)
	}
}
