package events

import (
	"testing"

	"github.com/moby/moby/api/types/events"
)

// FuzzFilterMatch matches events against `--filter key=value` pairs a
// client chose: no panic on any key, value, image reference or id, and a
// filter on an event's own type and id always lets it through.
func FuzzFilterMatch(f *testing.F) {
	f.Add("image", "busybox:latest", "container", "start", "abc123", "busybox")
	f.Add("image", "sha256:", "image", "pull", "sha256:abcd", "UPPER@sha256:x")
	f.Add("container", "ab", "container", "exec_start: sh -c x", "abc", "")
	f.Add("label", "a=b=c", "network", "connect", "", "")
	f.Add("event", "health_status", "container", "health_status: healthy", "x", "")
	f.Add("until", "", "volume", "", "", "::")
	f.Fuzz(func(t *testing.T, key, value, typ, action, id, image string) {
		m := events.Message{Type: events.Type(typ), Action: events.Action(action), Scope: "local",
			Actor: events.Actor{ID: id, Attributes: map[string]string{"image": image, "name": value}}}
		if !Filter(nil).Match(m) {
			t.Fatal("a nil filter refused an event")
		}
		_ = Filter{key: {value}}.Match(m)
		if !(Filter{"type": {typ}}).Match(m) {
			t.Fatalf("type=%q refused an event of that type", typ)
		}
	})
}
