package build

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// TestGCConfig: daemon.json's builder.gc as dockerd reads it becomes the
// worker's GC policy.
func TestGCConfig(t *testing.T) {
	read := func(t *testing.T, s string) GCConfig {
		t.Helper()
		var c GCConfig
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("disabled", func(t *testing.T) {
		p, err := read(t, `{"enabled": false, "defaultKeepStorage": "1GB"}`).GCPolicy(t.TempDir())
		if err != nil || p != nil {
			t.Fatalf("%v %v", p, err)
		}
	})
	t.Run("default keep storage", func(t *testing.T) {
		c := read(t, `{"enabled": true, "defaultKeepStorage": "10GB"}`)
		if c.DefaultReservedSpace != "10GB" || !c.IsEnabled() {
			t.Fatalf("%+v", c)
		}
		p, err := c.GCPolicy(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		const gb = 10 << 30
		want := []client.PruneInfo{
			{Filter: []string{"type==source.local", "type==exec.cachemount", "type==source.git.checkout"}, KeepDuration: 48 * time.Hour, MaxUsedSpace: 1483651380},
			{KeepDuration: 60 * 24 * time.Hour, ReservedSpace: gb},
			{ReservedSpace: gb},
			{All: true, ReservedSpace: gb},
		}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("policy\n%+v\nwant\n%+v", p, want)
		}
	})
	t.Run("default from the disk", func(t *testing.T) {
		p, err := read(t, `{}`).GCPolicy(t.TempDir() + "/not/yet")
		if err != nil || len(p) != 4 {
			t.Fatalf("%v %v", p, err)
		}
		last := p[3]
		if !last.All || last.ReservedSpace <= 0 || last.MaxUsedSpace <= last.ReservedSpace || last.MinFreeSpace <= 0 || p[0].MaxUsedSpace < 512e6 {
			t.Fatalf("%+v", p)
		}
	})
	t.Run("rules", func(t *testing.T) {
		c := read(t, `{"Policy": [{"keepStorage": "512MB", "filter": ["unused-for=1400h", "type=regular"]},
			{"All": true, "reservedSpace": "20GB", "maxUsedSpace": "30GB", "minFreeSpace": "1GB"},
			{"filter": {"until": {"24h": true}}}]}`)
		p, err := c.GCPolicy("/")
		if err != nil {
			t.Fatal(err)
		}
		want := []client.PruneInfo{
			{KeepDuration: 1400 * time.Hour, ReservedSpace: 512 << 20, Filter: []string{"type==regular"}},
			{All: true, ReservedSpace: 20 << 30, MaxUsedSpace: 30 << 30, MinFreeSpace: 1 << 30},
			{KeepDuration: 24 * time.Hour},
		}
		for i := range p {
			if d := p[i].KeepDuration - want[i].KeepDuration; d < -time.Minute || d > time.Minute {
				t.Fatalf("rule %d keeps %v", i, p[i].KeepDuration)
			}
			p[i].KeepDuration = want[i].KeepDuration
		}
		if !reflect.DeepEqual(p, want) {
			t.Fatalf("policy\n%+v\nwant\n%+v", p, want)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for s, msg := range map[string]string{
			`{"defaultKeepStorage": "lots"}`:       "failed to parse defaultReservedSpace: invalid size: 'lots'",
			`{"policy": [{"maxUsedSpace": "x"}]}`:  "failed to parse maxUsedSpace: invalid size: 'x'",
			`{"policy": [{"filter": ["nope=1"]}]}`: "builder GC policy: invalid filter 'nope'",
		} {
			_, err := read(t, s).GCPolicy("/")
			if err == nil || err.Error() != msg {
				t.Errorf("%s: %v, want %q", s, err, msg)
			}
		}
	})
}
