package api

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

func TestForOldClients(t *testing.T) {
	ep := &network.EndpointSettings{
		EndpointID:  "ep1",
		IPAddress:   netip.MustParseAddr("172.17.0.2"),
		IPPrefixLen: 16,
		Gateway:     netip.MustParseAddr("172.17.0.1"),
	}
	for _, tc := range []struct {
		name     string
		networks map[string]*network.EndpointSettings
		wantIP   string
		wantGW   string
	}{
		{"default bridge", map[string]*network.EndpointSettings{"bridge": ep}, "172.17.0.2", "172.17.0.1"},
		{"user network only", map[string]*network.EndpointSettings{"dev": ep}, "", ""},
		{"no network", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &container.InspectResponse{ID: "abc", NetworkSettings: &container.NetworkSettings{Networks: tc.networks}}
			data, err := json.Marshal(forOldClients(c))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				ID              string `json:"Id"`
				NetworkSettings map[string]any
			}
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if got.ID != "abc" {
				t.Errorf("Id = %q: the embedded response must still be encoded", got.ID)
			}
			for key, want := range map[string]any{"IPAddress": tc.wantIP, "Gateway": tc.wantGW} {
				if v, ok := got.NetworkSettings[key]; !ok || v != want {
					t.Errorf("NetworkSettings.%s = %v (present %v), want %q", key, v, ok, want)
				}
			}
			if _, ok := got.NetworkSettings["Networks"]; !ok {
				t.Error("NetworkSettings.Networks missing")
			}
		})
	}
}
