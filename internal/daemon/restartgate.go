package daemon

import (
	"context"
	"sync"

	"github.com/berth-project/berth/internal/container"
	containertypes "github.com/moby/moby/api/types/container"
)

// restartGates are the containers in an API restart (stop, then start).
// Between the stop's exit and the start, such a container is exited on
// record, yet coming back; dockerd's inspect there waits for the start,
// which holds the container from the moment the stop returns, and
// clients rely on it: Compose's `up` asks inspect, on the die of a
// container it follows, whether the container comes back (Running), and
// stops following it otherwise. berth's stop returns later (after the
// exit's clean-up), so a restart's gate makes inspect wait in that window.
type restartGates struct {
	mu    sync.Mutex
	gates map[string]chan struct{}
}

// enter marks id as restarting until the returned func is called. A
// restart already in progress keeps its gate (the later one ends first
// or waits behind it on the container).
func (g *restartGates) enter(id string) (done func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, busy := g.gates[id]; busy {
		return func() {}
	}
	if g.gates == nil {
		g.gates = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	g.gates[id] = ch
	return func() {
		g.mu.Lock()
		delete(g.gates, id)
		g.mu.Unlock()
		close(ch)
	}
}

// gate is id's open restart's channel, closed when it ends, or nil.
func (g *restartGates) gate(id string) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gates[id]
}

// waitRestart waits, when c is in a restart and no longer running, for the
// restart to end (or ctx), so that inspect shows where the restart leads
// rather than the moment between its stop and its start.
func (d *Daemon) waitRestart(ctx context.Context, c *container.Container) error {
	ch := d.restarts.gate(c.ID)
	if ch == nil {
		return nil
	}
	c.Lock()
	running := c.State.Status == containertypes.StateRunning
	c.Unlock()
	if running {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
