package api

import (
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

func networkNames(items []network.Summary) []string {
	var names []string
	for _, n := range items {
		names = append(names, n.Name)
	}
	return names
}

func TestNetworkCreateInspectListRemove(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	c := env.client

	created, err := c.NetworkCreate(ctx, "dev", client.NetworkCreateOptions{
		Driver:   "bridge",
		Internal: true,
		Labels:   map[string]string{"team": "a"},
		IPAM:     &network.IPAM{Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix("10.77.0.0/24")}}},
	})
	if err != nil || len(created.ID) != 64 {
		t.Fatalf("create: %v %+v", err, created)
	}
	if _, err := c.NetworkCreate(ctx, "dev", client.NetworkCreateOptions{}); !errdefs.IsConflict(err) {
		t.Fatalf("duplicate create: %v, want a conflict", err)
	}
	if _, err := c.NetworkCreate(ctx, "bridge", client.NetworkCreateOptions{}); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("create predefined: %v, want permission denied", err)
	}

	for _, ref := range []string{"dev", created.ID, created.ID[:12]} {
		insp, err := c.NetworkInspect(ctx, ref, client.NetworkInspectOptions{})
		if err != nil || insp.Network.ID != created.ID || !insp.Network.Internal || insp.Network.Labels["team"] != "a" ||
			len(insp.Network.IPAM.Config) != 1 || insp.Network.IPAM.Config[0].Subnet.String() != "10.77.0.0/24" {
			t.Fatalf("inspect %s: %v %+v", ref, err, insp.Network)
		}
		if !strings.Contains(string(insp.Raw), `"Containers":{}`) {
			t.Errorf("inspect %s raw JSON lacks Containers: %s", ref, insp.Raw)
		}
	}
	if _, err := c.NetworkInspect(ctx, "nope", client.NetworkInspectOptions{}); !errdefs.IsNotFound(err) ||
		!strings.Contains(err.Error(), "network nope not found") {
		t.Fatalf("inspect unknown: %v", err)
	}
	if _, err := c.NetworkInspect(ctx, "dev", client.NetworkInspectOptions{Scope: "swarm"}); !errdefs.IsNotFound(err) {
		t.Fatalf("inspect swarm scope: %v", err)
	}
	if _, err := c.NetworkInspect(ctx, "dev", client.NetworkInspectOptions{Scope: "galaxy"}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("inspect bad scope: %v", err)
	}

	list, err := c.NetworkList(ctx, client.NetworkListOptions{})
	if got := networkNames(list.Items); err != nil || !slices.Equal(got, []string{"bridge", "dev", "host", "none"}) {
		t.Fatalf("list: %v %v", err, got)
	}

	if _, err := c.NetworkRemove(ctx, "bridge", client.NetworkRemoveOptions{}); !errdefs.IsPermissionDenied(err) {
		t.Fatalf("remove predefined: %v", err)
	}
	if _, err := c.NetworkRemove(ctx, "dev", client.NetworkRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NetworkRemove(ctx, "dev", client.NetworkRemoveOptions{}); !errdefs.IsNotFound(err) {
		t.Fatalf("second remove: %v", err)
	}
}

func TestNetworkListFilters(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	c := env.client
	for _, name := range []string{"front", "back"} {
		if _, err := c.NetworkCreate(ctx, name, client.NetworkCreateOptions{Labels: map[string]string{"tier": name}}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		filters client.Filters
		want    []string
	}{
		{make(client.Filters).Add("type", "custom"), []string{"back", "front"}},
		{make(client.Filters).Add("type", "builtin"), []string{"bridge", "host", "none"}},
		{make(client.Filters).Add("name", "ro"), []string{"front"}},
		{make(client.Filters).Add("driver", "null"), []string{"none"}},
		{make(client.Filters).Add("label", "tier=back"), []string{"back"}},
		{make(client.Filters).Add("dangling", "true"), []string{"back", "front"}},
	}
	for _, tt := range tests {
		list, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: tt.filters})
		if got := networkNames(list.Items); err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("list %v: %v %v, want %v", tt.filters, err, got, tt.want)
		}
	}

	bad := []struct {
		filters client.Filters
		msg     string
	}{
		{make(client.Filters).Add("colour", "red"), "invalid filter 'colour'"},
		{make(client.Filters).Add("type", "weird"), "invalid filter: 'type'='weird'"},
	}
	for _, tt := range bad {
		_, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: tt.filters})
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("list %v: %v, want %q", tt.filters, err, tt.msg)
		}
	}
	if _, err := c.NetworkPrune(ctx, client.NetworkPruneOptions{Filters: make(client.Filters).Add("dangling", "true")}); !errdefs.IsInvalidArgument(err) ||
		!strings.Contains(err.Error(), "invalid filter 'dangling'") {
		t.Errorf("prune with a list-only filter: %v", err)
	}

	// "/networks/" lists too, and an empty list is [] rather than null.
	resp := env.do(t, "GET", "/v1.41/networks/?filters="+`{"name":{"zzz":true}}`, "", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("GET /networks/: %d %s", resp.StatusCode, body)
	}
}

func TestNetworkConnectDisconnectPrune(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	c := env.client
	env.fake.addImage("busybox")
	ctr, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: "busybox"}, Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"used", "unused1", "unused2"} {
		if _, err := c.NetworkCreate(ctx, name, client.NetworkCreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ip := netip.MustParseAddr("10.0.0.5")
	if _, err := c.NetworkConnect(ctx, "used", client.NetworkConnectOptions{Container: "web", EndpointConfig: &network.EndpointSettings{
		Aliases: []string{"search"}, IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: ip},
	}}); err != nil {
		t.Fatal(err)
	}
	insp, err := c.NetworkInspect(ctx, "used", client.NetworkInspectOptions{Verbose: true})
	if ep, ok := insp.Network.Containers[ctr.ID]; err != nil || !ok || ep.Name != "web" || ep.IPv4Address.Addr() != ip {
		t.Fatalf("inspect after connect: %v %+v", err, insp.Network.Containers)
	}
	if _, err := c.NetworkConnect(ctx, "nonet", client.NetworkConnectOptions{Container: "web"}); !errdefs.IsNotFound(err) {
		t.Errorf("connect to unknown network: %v", err)
	}
	if _, err := c.NetworkConnect(ctx, "used", client.NetworkConnectOptions{Container: "ghost"}); !errdefs.IsNotFound(err) {
		t.Errorf("connect unknown container: %v", err)
	}
	if _, err := c.NetworkRemove(ctx, "used", client.NetworkRemoveOptions{}); !errdefs.IsPermissionDenied(err) ||
		!strings.Contains(err.Error(), "has active endpoints") {
		t.Errorf("remove in use: %v", err)
	}

	pruned, err := c.NetworkPrune(ctx, client.NetworkPruneOptions{})
	if err != nil || !slices.Equal(pruned.Report.NetworksDeleted, []string{"unused1", "unused2"}) {
		t.Fatalf("prune: %v %+v", err, pruned.Report)
	}

	if _, err := c.NetworkDisconnect(ctx, "used", client.NetworkDisconnectOptions{Container: "web", Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NetworkDisconnect(ctx, "used", client.NetworkDisconnectOptions{Container: "web"}); !errdefs.IsPermissionDenied(err) {
		t.Errorf("second disconnect: %v", err)
	}
	if _, err := c.NetworkRemove(ctx, "used", client.NetworkRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestNetworkBadRequests(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		method, path, contentType, body string
		status                          int
		msg                             string
	}{
		{"POST", "/networks/create", "application/json", `{"Name":`, 400, "invalid JSON: unexpected EOF"},
		{"POST", "/networks/create", "application/json", `xyz`, 400, "invalid JSON: invalid character 'x'"},
		{"POST", "/networks/create", "application/json", ``, 400, "invalid JSON: got EOF while reading request body"},
		{"POST", "/networks/create", "application/json", `{"Name":"a"} {}`, 400, "unexpected content after JSON"},
		{"POST", "/networks/create", "text/plain", `{"Name":"a"}`, 400, "unsupported Content-Type header (text/plain)"},
		{"POST", "/networks/create", "application/json", `{"Name":""}`, 400, "network name cannot be empty"},
		{"POST", "/networks/bridge/connect", "application/json", `[`, 400, "invalid JSON"},
		{"POST", "/networks/bridge/disconnect", "application/json", `{"Container":"x"}`, 404, "No such container: x"},
		{"GET", "/networks?filters=notjson", "", ``, 400, "invalid filter"},
		{"DELETE", "/networks/none", "", ``, 403, "none is a pre-defined network and cannot be removed"},
		{"PUT", "/networks/bridge", "", ``, 404, "page not found"},
	}
	for _, tt := range tests {
		var body []byte
		if tt.method != "GET" && tt.method != "DELETE" && tt.method != "PUT" {
			body = []byte(tt.body)
		}
		resp := env.do(t, tt.method, tt.path, tt.contentType, body)
		var e struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != tt.status || !strings.Contains(e.Message, tt.msg) {
			t.Errorf("%s %s %q: %d %q, want %d %q", tt.method, tt.path, tt.body, resp.StatusCode, e.Message, tt.status, tt.msg)
		}
	}

	resp := env.do(t, "POST", "/v1.44/networks/create", "application/json", []byte(`{"Name":"n1","CheckDuplicate":true}`))
	var created network.CreateResponse
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != 201 || created.ID == "" {
		t.Fatalf("create: %d %v %+v", resp.StatusCode, err, created)
	}
	resp = env.do(t, "DELETE", "/v1.44/networks/n1", "", nil)
	if resp.StatusCode != 204 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
}

// TestNetworkDockerCLI drives the routes with the official docker CLI.
func TestNetworkDockerCLI(t *testing.T) {
	if _, err := os.Stat(dockerCLI); err != nil {
		t.Skipf("docker CLI not installed: %v", err)
	}
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "web", "busybox", []string{"sleep"}, false)

	steps := []struct {
		args    []string
		fails   bool
		wantOut string
	}{
		{[]string{"network", "create", "--subnet", "10.9.0.0/24", "--label", "k=v", "dev"}, false, fakeDigest("network dev")},
		{[]string{"network", "create", "dev"}, true, "network with name dev already exists"},
		{[]string{"network", "ls", "--filter", "type=custom", "--format", "{{.Name}} {{.Driver}} {{.Labels}}"}, false, "dev bridge k=v"},
		{[]string{"network", "connect", "--alias", "search", "dev", "web"}, false, ""},
		{[]string{"network", "inspect", "-f", "{{range .Containers}}{{.Name}}{{end}} {{(index .IPAM.Config 0).Subnet}}", "dev"}, false, "web 10.9.0.0/24"},
		{[]string{"network", "rm", "dev"}, true, "has active endpoints"},
		{[]string{"network", "disconnect", "dev", "web"}, false, ""},
		{[]string{"network", "rm", "dev"}, false, "dev"},
		{[]string{"network", "rm", "dev"}, true, "network dev not found"},
		{[]string{"network", "prune", "-f"}, false, ""},
	}
	for _, s := range steps {
		out, err := runDocker(t, env, s.args...)
		if (err != nil) != s.fails || !strings.Contains(out, s.wantOut) {
			t.Errorf("docker %v: %v\n%s\nwant failure %v and %q", s.args, err, out, s.fails, s.wantOut)
		}
	}
}
