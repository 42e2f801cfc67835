package events

import (
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/backend"
)

// Filter is a decoded `filters` parameter of GET /events, matched as
// dockerd matches it: values of one key are OR-ed, keys are AND-ed. The
// keys are container, image, network, volume, daemon (an actor's id, or a
// prefix of it, or its name), type, event, scope, and label (AND-ed, "k"
// or "k=v" against the actor's attributes). Swarm keys (config, node,
// plugin, secret, service) select nothing berth emits. A nil Filter
// matches everything.
type Filter backend.Filters

// Match reports whether m passes f.
func (f Filter) Match(m events.Message) bool {
	return f.matchAction(m) &&
		f.exact("type", string(m.Type)) &&
		f.exact("scope", m.Scope) &&
		f.matchName(m, events.DaemonEventType) &&
		f.matchName(m, events.ContainerEventType) &&
		f.matchName(m, events.NetworkEventType) &&
		f.matchName(m, events.VolumeEventType) &&
		f.matchName(m, events.PluginEventType) &&
		f.matchName(m, events.NodeEventType) &&
		f.matchName(m, events.ServiceEventType) &&
		f.matchName(m, events.SecretEventType) &&
		f.matchName(m, events.ConfigEventType) &&
		f.matchImage(m) &&
		backend.Filters(f).MatchLabels("label", m.Actor.Attributes)
}

// exact: no value for key, or v is one of them.
func (f Filter) exact(key, v string) bool {
	vals, ok := f[key]
	return !ok || len(vals) == 0 || slices.Contains(vals, v)
}

// fuzzy: no value for key, or one of them is v or a prefix of it.
func (f Filter) fuzzy(key, v string) bool {
	vals, ok := f[key]
	if !ok || len(vals) == 0 {
		return true
	}
	for _, want := range vals {
		if strings.HasPrefix(v, want) {
			return true
		}
	}
	return false
}

// matchAction matches the event filter exactly, except that the prefixed
// actions ("exec_start: sh", "health_status: healthy") also match their
// bare prefix, as in dockerd (moby#25798).
func (f Filter) matchAction(m events.Message) bool {
	for _, v := range f["event"] {
		switch events.Action(v) {
		case events.ActionExecCreate, events.ActionExecStart, events.ActionHealthStatus:
			return f.fuzzy("event", string(m.Action))
		}
	}
	return f.exact("event", string(m.Action))
}

// matchName matches the key named after typ against the actor's id or its
// name attribute. As in dockerd it applies to every event, whatever its
// type: `--filter container=x` keeps only events whose actor is x (a
// network connect names the container in an attribute, not as its actor).
func (f Filter) matchName(m events.Message, typ events.Type) bool {
	key := string(typ)
	return f.fuzzy(key, m.Actor.ID) || f.fuzzy(key, m.Actor.Attributes["name"])
}

// matchImage matches an image event's id or name, or a container event's
// image attribute, also with the tag stripped (`image=busybox` selects
// busybox:latest's events).
func (f Filter) matchImage(m events.Message) bool {
	attr := "image"
	if m.Type == events.ImageEventType {
		attr = "name"
	}
	name := m.Actor.Attributes[attr]
	return f.exact("image", m.Actor.ID) || f.exact("image", name) ||
		f.exact("image", stripTag(m.Actor.ID)) || f.exact("image", stripTag(name))
}

func stripTag(image string) string {
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return image
	}
	return reference.FamiliarName(ref)
}
