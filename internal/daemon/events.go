package daemon

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/container"
	eventlog "github.com/berth-project/berth/internal/events"
	"github.com/berth-project/berth/internal/network"
)

// logEvent records an engine event: the one place every daemon file emits
// through. Use the helpers below for containers, images, networks and
// volumes: they fill docker's attributes. A daemon built without a log
// (a unit test's literal) records nothing.
func (d *Daemon) logEvent(typ events.Type, action events.Action, actor events.Actor) {
	if d.events == nil {
		return
	}
	d.events.Log(typ, action, actor)
}

// logContainerEvent records a container event with docker's attributes:
// the container's labels, "image" (as the user named it) and "name", plus
// extra (exitCode for die, signal for kill, ...). c must not be locked by
// another goroutine that waits on the caller.
func (d *Daemon) logContainerEvent(c *container.Container, action events.Action, extra map[string]string) {
	attrs := make(map[string]string, len(extra)+4)
	if c.Config != nil {
		maps.Copy(attrs, c.Config.Labels)
		if c.Config.Image != "" {
			attrs["image"] = c.Config.Image
		}
	}
	maps.Copy(attrs, extra)
	attrs["name"] = strings.TrimPrefix(c.Name, "/")
	d.logEvent(events.ContainerEventType, action, events.Actor{ID: c.ID, Attributes: attrs})
}

// logImageEvent records an image event: the actor is imageID (or, for
// pull and push, the reference), with the image's labels and "name" (the
// reference the action was about, when there is one). The labels are read
// while the image still exists (not for delete).
func (d *Daemon) logImageEvent(ctx context.Context, imageID, refName string, action events.Action) {
	attrs := map[string]string{}
	if action != events.ActionDelete {
		if img, err := d.images.Get(context.WithoutCancel(ctx), imageID); err == nil {
			maps.Copy(attrs, img.Config.Config.Labels)
		}
	}
	if refName != "" {
		attrs["name"] = refName
	}
	d.logEvent(events.ImageEventType, action, events.Actor{ID: imageID, Attributes: attrs})
}

// logNetworkEvent records a network event with docker's "name" and "type"
// (the driver), plus extra ("container" for connect and disconnect).
func (d *Daemon) logNetworkEvent(n *network.Network, action events.Action, extra map[string]string) {
	attrs := make(map[string]string, len(extra)+2)
	maps.Copy(attrs, extra)
	attrs["name"] = n.Name
	attrs["type"] = n.Driver
	d.logEvent(events.NetworkEventType, action, events.Actor{ID: n.ID, Attributes: attrs})
}

// logVolumeEvent records a volume event; attrs are docker's for the action
// ("driver" always; mount adds "container", "destination", "propagation",
// "read/write"; unmount adds "container").
func (d *Daemon) logVolumeEvent(name string, action events.Action, attrs map[string]string) {
	if attrs == nil {
		attrs = map[string]string{}
	}
	d.logEvent(events.VolumeEventType, action, events.Actor{ID: name, Attributes: attrs})
}

// SubscribeEvents returns the recorded events between since and until that
// pass filters, and a subscription to the live ones; the caller closes it.
func (d *Daemon) SubscribeEvents(ctx context.Context, since, until time.Time, filters backend.Filters) ([]events.Message, backend.EventSubscription) {
	return d.events.Subscribe(since, until, eventlog.Filter(filters))
}
