package api

import (
	"maps"
	"net"
	"slices"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestAddOldAliases(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	c := &container.InspectResponse{
		ID:     id,
		Config: &container.Config{Hostname: "web.local"},
		NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{
			"bridge": {},
			"dev":    {Aliases: []string{"api", "0123456789ab"}},
			"other":  {},
		}},
	}
	addOldAliases(c)
	for name, want := range map[string][]string{
		"bridge": nil,
		"dev":    {"api", "0123456789ab", "web.local"},
		"other":  {"0123456789ab", "web.local"},
	} {
		if got := c.NetworkSettings.Networks[name].Aliases; !slices.Equal(got, want) {
			t.Errorf("Aliases on %s = %q, want %q", name, got, want)
		}
	}
	addOldAliases(&container.InspectResponse{ID: id}) // no NetworkSettings: nothing to do
}

func TestMoveContainerMAC(t *testing.T) {
	const mac = "02:42:ac:11:00:99"
	eps := func(kv ...any) *network.NetworkingConfig {
		nc := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{}}
		for i := 0; i < len(kv); i += 2 {
			ep := &network.EndpointSettings{}
			if m := kv[i+1].(string); m != "" {
				hw, _ := net.ParseMAC(m)
				ep.MacAddress = network.HardwareAddr(hw)
			}
			nc.EndpointsConfig[kv[i].(string)] = ep
		}
		return nc
	}
	for _, tc := range []struct {
		name     string
		old      bool
		mac      string
		mode     string
		nc       *network.NetworkingConfig
		want     map[string]string // endpoint -> MAC after
		warning  bool
		errClass func(error) bool
	}{
		{name: "old, none asked: endpoint MACs are dropped", old: true, nc: eps("dev", mac), mode: "dev", want: map[string]string{"dev": ""}},
		{name: "new, none asked: endpoint MACs stay", nc: eps("dev", mac), mode: "dev", want: map[string]string{"dev": mac}},
		{name: "old, default bridge without endpoints", old: true, mac: mac, mode: "default", want: map[string]string{"bridge": mac}},
		{name: "old, the one endpoint whatever its key", old: true, mac: mac, mode: "dev", nc: eps("3f2e", ""), want: map[string]string{"3f2e": mac}},
		{name: "new, default bridge endpoint keyed default", mac: mac, mode: "default", nc: eps("default", ""), want: map[string]string{"default": mac}, warning: true},
		{name: "new, same MAC on the endpoint", mac: mac, mode: "dev", nc: eps("dev", mac), want: map[string]string{"dev": mac}, warning: true},
		{name: "new, another MAC on the endpoint", mac: mac, mode: "dev", nc: eps("dev", "02:42:ac:11:00:01"), errClass: errdefs.IsInvalidArgument},
		{name: "new, main network has no endpoint", mac: mac, mode: "dev", nc: eps("other", ""), errClass: func(err error) bool { return err != nil }},
		{name: "old, host network", old: true, mac: mac, mode: "host", errClass: errdefs.IsInvalidArgument},
		{name: "new, host network: ignored with the warning", mac: mac, mode: "host", want: map[string]string{}, warning: true},
		{name: "bad MAC", mac: "02:42", mode: "default", errClass: errdefs.IsInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &container.CreateRequest{Config: &container.Config{}, HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(tc.mode)}, NetworkingConfig: tc.nc}
			warning, err := moveContainerMAC(tc.old, tc.mac, req)
			if tc.errClass != nil {
				if err == nil || !tc.errClass(err) {
					t.Fatalf("moveContainerMAC: %v, want an error of the right class", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (warning != "") != tc.warning {
				t.Errorf("warning %q, want one: %v", warning, tc.warning)
			}
			got := map[string]string{}
			if req.NetworkingConfig != nil {
				for k, ep := range req.NetworkingConfig.EndpointsConfig {
					got[k] = ep.MacAddress.String()
				}
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("endpoints' MACs %v, want %v", got, tc.want)
			}
		})
	}
}
