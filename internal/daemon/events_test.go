package daemon

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/container"
	eventlog "github.com/berth-project/berth/internal/events"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/volume"
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

// endpointsFake is a network manager holding endpoints, whose release is
// slow enough for two releases to overlap.
type endpointsFake struct {
	Networks
	mu  sync.Mutex
	eps map[string][]*network.Endpoint
}

func (f *endpointsFake) Endpoints(id string) []*network.Endpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.eps[id])
}

func (f *endpointsFake) ReleaseAll(ctx context.Context, id string) error {
	time.Sleep(20 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.eps, id)
	return nil
}

func (f *endpointsFake) Get(ref string) (*network.Network, error) {
	return &network.Network{ID: ref, Name: "net-" + ref, Driver: "bridge"}, nil
}

// TestNetworkTeardownLogsEachDisconnectOnce: an exit's release and a
// removal's may tear a container's networking down at once; each endpoint
// is reported disconnected once.
func TestNetworkTeardownLogsEachDisconnectOnce(t *testing.T) {
	d := &Daemon{events: eventlog.New(0)}
	fake := &endpointsFake{eps: map[string][]*network.Endpoint{"c1": {
		{NetworkID: "n1", ContainerID: "c1"}, {NetworkID: "n2", ContainerID: "c1"},
	}}}
	m := &eventNetworks{Networks: fake, d: d}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := m.ReleaseAll(context.Background(), "c1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var got []string
	for _, e := range recorded(t, d) {
		got = append(got, fmt.Sprint(e.Action, " ", e.Actor.ID, " ", e.Actor.Attributes))
	}
	want := []string{"disconnect n1 map[container:c1 name:net-n1 type:bridge]", "disconnect n2 map[container:c1 name:net-n2 type:bridge]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// TestVolumeStoreEvents: create is logged for a volume that was made, not
// for one that existed; removal is logged as destroy.
func TestVolumeStoreEvents(t *testing.T) {
	store, err := volume.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{events: eventlog.New(0)}
	v := eventVolumes{Volumes: store, d: d}
	if _, err := v.Create("data", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Create("data", nil); err != nil { // exists: no event
		t.Fatal(err)
	}
	anon, err := v.Create("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Remove("data"); err != nil {
		t.Fatal(err)
	}
	if err := v.Remove("missing"); err == nil {
		t.Fatal("removing a missing volume succeeded")
	}
	var got []string
	for _, e := range recorded(t, d) {
		got = append(got, fmt.Sprint(e.Action, " ", e.Actor.ID, " ", e.Actor.Attributes))
	}
	want := []string{"create data map[driver:local]", "create " + anon.Name + " map[driver:local]", "destroy data map[driver:local]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}
