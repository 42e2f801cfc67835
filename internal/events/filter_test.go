package events

import (
	"testing"

	"github.com/moby/moby/api/types/events"
)

func TestFilterMatch(t *testing.T) {
	start := events.Message{Type: events.ContainerEventType, Action: events.ActionStart, Scope: "local",
		Actor: events.Actor{ID: "4a5b6c7d8e9f", Attributes: map[string]string{"name": "web", "image": "busybox:latest", "com.x": "1"}}}
	exec := events.Message{Type: events.ContainerEventType, Action: "exec_start: sh -c true", Scope: "local",
		Actor: events.Actor{ID: "4a5b6c7d8e9f", Attributes: map[string]string{"name": "web", "image": "busybox"}}}
	connect := events.Message{Type: events.NetworkEventType, Action: events.ActionConnect, Scope: "local",
		Actor: events.Actor{ID: "9999", Attributes: map[string]string{"name": "front", "type": "bridge", "container": "4a5b6c7d8e9f"}}}
	tag := events.Message{Type: events.ImageEventType, Action: events.ActionTag, Scope: "local",
		Actor: events.Actor{ID: "sha256:abcd", Attributes: map[string]string{"name": "example.com/app:v1"}}}
	vol := events.Message{Type: events.VolumeEventType, Action: events.ActionMount, Scope: "local",
		Actor: events.Actor{ID: "data", Attributes: map[string]string{"driver": "local", "container": "4a5b6c7d8e9f"}}}

	for _, tc := range []struct {
		name string
		f    Filter
		m    events.Message
		want bool
	}{
		{"nil matches all", nil, start, true},
		{"type", Filter{"type": {"container"}}, start, true},
		{"type other", Filter{"type": {"network"}}, start, false},
		{"types OR-ed", Filter{"type": {"network", "container"}}, start, true},
		{"event exact", Filter{"event": {"start"}}, start, true},
		{"event is not a prefix match", Filter{"event": {"sta"}}, start, false},
		{"exec_start bare matches prefixed action", Filter{"event": {"exec_start"}}, exec, true},
		{"exec_create bare does not match exec_start", Filter{"event": {"exec_create"}}, exec, false},
		{"full exec action", Filter{"event": {"exec_start: sh -c true"}}, exec, true},
		{"container by name", Filter{"container": {"web"}}, start, true},
		{"container by id prefix", Filter{"container": {"4a5b"}}, start, true},
		{"container other", Filter{"container": {"db"}}, start, false},
		{"container filter drops network events", Filter{"container": {"web"}}, connect, false},
		{"network by name", Filter{"network": {"front"}}, connect, true},
		{"network filter drops container events", Filter{"network": {"front"}}, start, false},
		{"volume by name", Filter{"volume": {"data"}}, vol, true},
		{"image of a container event", Filter{"image": {"busybox:latest"}}, start, true},
		{"image without tag", Filter{"image": {"busybox"}}, start, true},
		{"image event by name", Filter{"image": {"example.com/app:v1"}}, tag, true},
		{"image event by name without tag", Filter{"image": {"example.com/app"}}, tag, true},
		{"image event by id", Filter{"image": {"sha256:abcd"}}, tag, true},
		{"image other", Filter{"image": {"alpine"}}, tag, false},
		{"label key", Filter{"label": {"com.x"}}, start, true},
		{"label key=value", Filter{"label": {"com.x=1"}}, start, true},
		{"label wrong value", Filter{"label": {"com.x=2"}}, start, false},
		{"labels AND-ed", Filter{"label": {"com.x", "com.y"}}, start, false},
		{"scope local", Filter{"scope": {"local"}}, start, true},
		{"scope swarm", Filter{"scope": {"swarm"}}, start, false},
		{"daemon filter drops container events", Filter{"daemon": {"x"}}, start, false},
		{"keys AND-ed", Filter{"type": {"container"}, "event": {"die"}}, start, false},
		{"service filter selects nothing berth emits", Filter{"service": {"s"}}, start, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.Match(tc.m); got != tc.want {
				t.Fatalf("%v.Match(%s %s) = %v, want %v", tc.f, tc.m.Type, tc.m.Action, got, tc.want)
			}
		})
	}
}
