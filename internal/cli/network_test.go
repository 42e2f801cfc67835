package cli

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/network"
)

// networkListJSON is a GET /networks answer, deliberately out of order.
const networkListJSON = `[
{"Name":"net10","Id":"aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa1111bbbb2222","Created":"2024-05-01T10:00:00Z","Scope":"local","Driver":"bridge","EnableIPv4":true,"Internal":true,"Labels":{"b":"2","a":"1"},"Options":{},"IPAM":{"Driver":"default","Config":[]}},
{"Name":"bridge","Id":"1111aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff1111aaaa2222bbbb","Created":"2024-05-01T09:00:00Z","Scope":"local","Driver":"bridge","EnableIPv4":true,"Labels":{},"Options":{},"IPAM":{"Driver":"default","Config":[]}},
{"Name":"net9","Id":"9999aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff1111aaaa2222bbbb","Created":"2024-05-01T09:00:00Z","Scope":"local","Driver":"null","EnableIPv4":true,"Labels":null,"Options":{},"IPAM":{"Driver":"default","Config":[]}}]`

func TestNetworkListCommand(t *testing.T) {
	var filters string
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"GET /networks": func(w http.ResponseWriter, r *http.Request) {
			filters = r.URL.Query().Get("filters")
			if filters != "" {
				replyJSON(200, `[]`)(w, r)
				return
			}
			replyJSON(200, networkListJSON)(w, r)
		},
	})
	// Expected outputs were taken from docker 28.2.2 on the same answer
	// (docker 29 sorts labels, as berth does).
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"network", "ls"}, "NETWORK ID     NAME      DRIVER    SCOPE\n" +
			"1111aaaa2222   bridge    bridge    local\n" +
			"9999aaaa2222   net9      null      local\n" +
			"aaaa1111bbbb   net10     bridge    local\n"},
		{[]string{"network", "ls", "-q"}, "1111aaaa2222\n9999aaaa2222\naaaa1111bbbb\n"},
		{[]string{"network", "list", "--no-trunc", "--format", `table {{.ID}}\t{{.Name}}\t{{.IPv6}}\t{{.Internal}}\t{{.Labels}}\t{{.Label "a"}}`},
			"NETWORK ID                                                         NAME      IPV6      INTERNAL   LABELS    a\n" +
				"1111aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff1111aaaa2222bbbb   bridge    false     false                \n" +
				"9999aaaa2222bbbb3333cccc4444dddd5555eeee6666ffff1111aaaa2222bbbb   net9      false     false                \n" +
				"aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa1111bbbb2222   net10     false     true       a=1,b=2   1\n"},
		{[]string{"network", "ls", "--format", "{{.Name}} {{.CreatedAt}}"},
			"bridge 2024-05-01 09:00:00 +0000 UTC\nnet9 2024-05-01 09:00:00 +0000 UTC\nnet10 2024-05-01 10:00:00 +0000 UTC\n"},
		{[]string{"network", "ls", "-q", "--format", "{{.Name}}"}, "bridge\nnet9\nnet10\n"},
		{[]string{"network", "ls", "-f", "Driver=null", "--filter", "name=x"}, "NETWORK ID   NAME      DRIVER    SCOPE\n"},
	}
	for _, tt := range tests {
		out, errOut, code := stub.run(t, "", tt.args...)
		if code != 0 || out != tt.want {
			t.Errorf("%v: code %d, stderr %q, stdout\n%s\nwant\n%s", tt.args, code, errOut, out, tt.want)
		}
	}
	if filters != `{"driver":{"null":true},"name":{"x":true}}` {
		t.Errorf("filters sent: %s", filters)
	}

	out, _, _ := stub.run(t, "", "network", "ls", "--format", "json")
	first, _, _ := strings.Cut(out, "\n")
	var row map[string]string
	if err := json.Unmarshal([]byte(first), &row); err != nil || row["ID"] != "1111aaaa2222" || row["IPv4"] != "true" ||
		row["CreatedAt"] != "2024-05-01 09:00:00 +0000 UTC" || len(row) != 9 {
		t.Errorf("json row %q: %v", first, err)
	}
}

func TestNetworkCreateCommand(t *testing.T) {
	var got network.CreateRequest
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /networks/create": func(w http.ResponseWriter, r *http.Request) {
			got = network.CreateRequest{}
			if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
				t.Error(err)
			}
			if got.Name == "dup" {
				replyJSON(409, `{"message":"network with name dup already exists"}`)(w, r)
				return
			}
			replyJSON(201, `{"Id":"0123456789abcdef","Warning":""}`)(w, r)
		},
	})
	out, errOut, code := stub.run(t, "", "network", "create", "-d", "bridge", "--subnet", "10.5.0.0/16", "--gateway", "10.5.0.254",
		"--ip-range", "10.5.1.0/24", "--internal", "--attachable", "--label", "team=a", "--label", "solo",
		"-o", "com.docker.network.bridge.name=br-test", "--ipv6=false", "dev")
	if code != 0 || out != "0123456789abcdef\n" || errOut != "" {
		t.Fatalf("create: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	want := network.IPAMConfig{
		Subnet:     netip.MustParsePrefix("10.5.0.0/16"),
		IPRange:    netip.MustParsePrefix("10.5.1.0/24"),
		Gateway:    netip.MustParseAddr("10.5.0.254"),
		AuxAddress: map[string]netip.Addr{},
	}
	if got.Name != "dev" || got.Driver != "bridge" || !got.Internal || !got.Attachable || got.EnableIPv4 != nil ||
		got.EnableIPv6 == nil || *got.EnableIPv6 || got.IPAM == nil || got.IPAM.Driver != "default" || len(got.IPAM.Config) != 1 ||
		got.IPAM.Config[0].Subnet != want.Subnet || got.IPAM.Config[0].IPRange != want.IPRange || got.IPAM.Config[0].Gateway != want.Gateway ||
		got.Labels["team"] != "a" || got.Labels["solo"] != "" || len(got.Labels) != 2 ||
		got.Options["com.docker.network.bridge.name"] != "br-test" {
		t.Errorf("request %+v, IPAM %+v", got, got.IPAM)
	}

	_, errOut, code = stub.run(t, "", "network", "create", "dup")
	if code != 1 || errOut != "Error response from daemon: network with name dup already exists\n" {
		t.Errorf("duplicate: code %d, stderr %q", code, errOut)
	}

	bad := []struct {
		args []string
		msg  string
	}{
		{[]string{"--gateway", "10.0.0.1"}, "every ip-range or gateway must have a corresponding subnet"},
		{[]string{"--subnet", "10.0.0.0/8", "--subnet", "10.1.0.0/16"}, "multiple overlapping subnet configuration is not supported"},
		{[]string{"--subnet", "10.0.0.0/24", "--gateway", "10.9.0.1"}, "no matching subnet for gateway 10.9.0.1"},
		{[]string{"--subnet", "10.0.0.0/24", "--ip-range", "10.9.0.0/25"}, "no matching subnet for range 10.9.0.0/25"},
		{[]string{"--subnet", "10.0.0.0/24", "--subnet", "10.2.0.0/24", "--gateway", "10.0.0.1", "--gateway", "10.0.0.2"},
			"cannot configure multiple gateways (10.0.0.2, 10.0.0.1) for the same subnet (10.0.0.0/24)"},
		{[]string{"--subnet", "nonsense"}, "invalid subnet: invalid CIDR address: nonsense"},
		{[]string{"--subnet", "10.0.0.0/24", "--aux-address", "a=10.3.0.1"}, "no matching subnet for aux-address 10.3.0.1"},
		{[]string{"--label", "a b"}, "label 'a b' contains whitespaces"},
		{[]string{"--ip-range", "bogus"}, `invalid argument "bogus" for "--ip-range" flag`},
	}
	for _, tt := range bad {
		before := len(stub.requests())
		_, errOut, code := stub.run(t, "", append(append([]string{"network", "create"}, tt.args...), "n")...)
		if code == 0 || !strings.Contains(errOut, tt.msg) || len(stub.requests()) != before {
			t.Errorf("%v: code %d, stderr %q, want %q and no request", tt.args, code, errOut, tt.msg)
		}
	}
	_, errOut, code = stub.run(t, "", "network", "create")
	if code != 1 || !strings.HasPrefix(errOut, "berth: 'berth network create' requires 1 argument") {
		t.Errorf("no name: code %d, stderr %q", code, errOut)
	}
}

func TestNetworkRemoveCommand(t *testing.T) {
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"DELETE /networks/a":    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
		"DELETE /networks/c":    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
		"DELETE /networks/busy": replyJSON(403, `{"message":"error while removing network: network busy has active endpoints"}`),
	})
	out, errOut, code := stub.run(t, "", "network", "rm", "a", "nope", "busy", "c")
	if code != 1 || out != "a\nc\n" || errOut != "Error response from daemon: page not found\n"+
		"Error response from daemon: error while removing network: network busy has active endpoints\nexit status 1\n" {
		t.Errorf("rm: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = stub.run(t, "", "network", "remove", "-f", "nope", "a")
	if code != 0 || out != "a\n" || errOut != "" {
		t.Errorf("rm -f: code %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestNetworkPruneCommand(t *testing.T) {
	var filters string
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /networks/prune": func(w http.ResponseWriter, r *http.Request) {
			filters = r.URL.Query().Get("filters")
			replyJSON(200, `{"NetworksDeleted":["n1","n2"]}`)(w, r)
		},
	})
	prompt := "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] "
	out, _, code := stub.run(t, "n\n", "network", "prune")
	if code != 0 || out != prompt || len(stub.requests()) != 0 {
		t.Errorf("declined: code %d, stdout %q, requests %v", code, out, stub.requests())
	}
	out, _, code = stub.run(t, "y\n", "network", "prune", "--filter", "label=x")
	if code != 0 || out != prompt+"Deleted Networks:\nn1\nn2\n\n" || filters != `{"label":{"x":true}}` {
		t.Errorf("accepted: code %d, stdout %q, filters %s", code, out, filters)
	}
	out, _, code = stub.run(t, "", "network", "prune", "-f")
	if code != 0 || out != "Deleted Networks:\nn1\nn2\n\n" {
		t.Errorf("-f: code %d, stdout %q", code, out)
	}
}

func TestNetworkConnectDisconnectInspect(t *testing.T) {
	var connect network.ConnectRequest
	var disconnect network.DisconnectRequest
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /networks/dev/connect": func(w http.ResponseWriter, r *http.Request) {
			connect = network.ConnectRequest{}
			json.NewDecoder(r.Body).Decode(&connect)
			w.WriteHeader(200)
		},
		"POST /networks/dev/disconnect": func(w http.ResponseWriter, r *http.Request) {
			json.NewDecoder(r.Body).Decode(&disconnect)
			w.WriteHeader(200)
		},
		"POST /networks/nonet/connect": replyJSON(404, `{"message":"network nonet not found"}`),
		"GET /networks/dev":            replyJSON(200, `{"Name":"dev","Id":"abc","Driver":"bridge","Containers":{}}`),
	})
	out, errOut, code := stub.run(t, "", "network", "connect", "--alias", "search", "--alias", "db", "--ip", "10.5.0.9", "dev", "web")
	ep := connect.EndpointConfig
	if code != 0 || out != "" || errOut != "" || connect.Container != "web" || ep == nil ||
		strings.Join(ep.Aliases, ",") != "search,db" || ep.IPAMConfig == nil || ep.IPAMConfig.IPv4Address != netip.MustParseAddr("10.5.0.9") {
		t.Errorf("connect: code %d, stderr %q, request %+v %+v", code, errOut, connect, ep)
	}
	_, errOut, code = stub.run(t, "", "network", "connect", "nonet", "web")
	if code != 1 || errOut != "Error response from daemon: network nonet not found\n" {
		t.Errorf("connect unknown: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = stub.run(t, "", "network", "connect", "--ip", "10.5.0", "dev", "web")
	if code != 125 || !strings.Contains(errOut, `invalid argument "10.5.0" for "--ip" flag`) {
		t.Errorf("connect bad ip: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = stub.run(t, "", "network", "disconnect", "-f", "dev", "web")
	if code != 0 || errOut != "" || disconnect.Container != "web" || !disconnect.Force {
		t.Errorf("disconnect: code %d, stderr %q, request %+v", code, errOut, disconnect)
	}

	out, _, code = stub.run(t, "", "network", "inspect", "dev")
	if code != 0 || !strings.HasPrefix(out, "[\n    {\n        \"Name\": \"dev\",\n        \"Id\": \"abc\",") {
		t.Errorf("inspect: code %d, stdout %q", code, out)
	}
	out, _, code = stub.run(t, "", "network", "inspect", "-f", "{{.Name}} {{.Driver}}", "dev")
	if code != 0 || out != "dev bridge\n" {
		t.Errorf("inspect -f: code %d, stdout %q", code, out)
	}
	out, errOut, code = stub.run(t, "", "network", "inspect", "dev", "gone")
	if code != 1 || !strings.HasPrefix(out, "[\n") || !strings.Contains(errOut, "page not found") {
		t.Errorf("inspect missing: code %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestNetworkHelp(t *testing.T) {
	stub := newAPIStub(t, nil)
	out, _, code := stub.run(t, "", "network")
	for _, sub := range []string{"connect", "create", "disconnect", "inspect", "ls", "prune", "rm"} {
		if !strings.Contains(out, "\n  "+sub+" ") {
			t.Errorf("network help lacks %s:\n%s", sub, out)
		}
	}
	if code != 0 {
		t.Errorf("network: code %d", code)
	}
}
