package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/container"
	eventlog "github.com/berth-project/berth/internal/events"
	"github.com/berth-project/berth/internal/network"
)

// recorded returns every event d logged so far.
func recorded(t *testing.T, d *Daemon) []events.Message {
	t.Helper()
	past, sub := d.SubscribeEvents(context.Background(), time.Unix(0, 0), time.Time{}, nil)
	sub.Close()
	return past
}

func TestEventHelpersFillDockerAttributes(t *testing.T) {
	d := &Daemon{events: eventlog.New(0)}
	c := &container.Container{ID: "abc123", Name: "/web", Config: &containertypes.Config{
		Image: "busybox", Labels: map[string]string{"com.example": "x", "name": "label-loses"},
	}}
	d.logContainerEvent(c, events.ActionDie, map[string]string{"exitCode": "3"})
	d.logNetworkEvent(&network.Network{ID: "n1", Name: "front", Driver: "bridge"}, events.ActionConnect, map[string]string{"container": c.ID})
	d.logVolumeEvent("data", events.ActionCreate, map[string]string{"driver": "local"})

	got := recorded(t, d)
	want := []string{
		"container die abc123 map[com.example:x exitCode:3 image:busybox name:web]",
		"network connect n1 map[container:abc123 name:front type:bridge]",
		"volume create data map[driver:local]",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
	}
	for i, m := range got {
		if s := fmt.Sprint(m.Type, " ", m.Action, " ", m.Actor.ID, " ", m.Actor.Attributes); s != want[i] {
			t.Errorf("event %d = %s, want %s", i, s, want[i])
		}
		if m.Scope != "local" || m.TimeNano == 0 {
			t.Errorf("event %d not stamped: %+v", i, m)
		}
	}
}
