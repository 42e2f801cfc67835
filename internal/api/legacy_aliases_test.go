package api

import (
	"slices"
	"testing"

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
