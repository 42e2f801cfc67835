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

// TestStateEventsOncePerRun: the supervisor's state changes become one
// start and one die per run, whatever else changes state (a stop that marks
// the container, a restart that fails, a container re-adopted at boot).
func TestStateEventsOncePerRun(t *testing.T) {
	d := &Daemon{events: eventlog.New(0), life: newLifecycle()}
	t0 := time.Now().UTC()
	c := &container.Container{ID: "c1", Name: "/c", Config: &containertypes.Config{Image: "busybox"}}
	set := func(status containertypes.ContainerState, started time.Time, code int, oom bool) {
		c.State.Status, c.State.StartedAt, c.State.ExitCode, c.State.OOMKilled = status, started, code, oom
		c.State.FinishedAt = started.Add(2 * time.Second)
		d.logStateEvents(c)
	}
	set(containertypes.StateRunning, t0, 0, false)                     // start
	set(containertypes.StateRunning, t0, 0, false)                     // marked stopped: nothing
	set(containertypes.StateRestarting, t0, 1, false)                  // die
	set(containertypes.StateRunning, t0.Add(time.Second), 0, false)    // restarted by its policy: start
	set(containertypes.StateExited, t0.Add(time.Second), 137, true)    // oom, die
	set(containertypes.StateRestarting, t0.Add(time.Second), 1, false) // (not a run's end: no die)
	set(containertypes.StateExited, t0.Add(time.Second), 1, false)     // a restart that failed: nothing

	boot := &container.Container{ID: "c2", Name: "/b", Config: &containertypes.Config{}}
	boot.State.Status, boot.State.StartedAt = containertypes.StateRunning, t0
	records := container.NewStore()
	records.Add(boot)
	d.containers = records
	d.seedLifecycle()
	d.logStateEvents(boot) // a stop marks the re-adopted container: nothing

	var got []string
	for _, m := range recorded(t, d) {
		got = append(got, fmt.Sprint(m.Actor.ID, " ", m.Action, " ", m.Actor.Attributes["exitCode"], m.Actor.Attributes["execDuration"]))
	}
	want := []string{"c1 start ", "c1 die 12", "c1 start ", "c1 oom ", "c1 die 1372"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}
