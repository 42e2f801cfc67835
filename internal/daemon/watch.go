package daemon

import "github.com/berth-project/berth/internal/container"

// watch lets waiters learn that a container's state changed: ch is closed
// on every change and replaced by a fresh watch. A change of state carries
// the state it made, so that a waiter sees an exit even when the container
// runs again (restart) before the waiter reads its record.
type watch struct {
	ch chan struct{}
	st *container.State // the new state; nil for a removal
}

// changes returns the watch closed at the container's next state change
// (including its removal).
func (d *Daemon) changes(id string) *watch {
	d.mu.Lock()
	defer d.mu.Unlock()
	w, ok := d.watchers[id]
	if !ok {
		w = &watch{ch: make(chan struct{})}
		d.watchers[id] = w
	}
	return w
}

// notify wakes everyone waiting on the container's state; st is the state
// the change made, nil when there is none (a removal).
func (d *Daemon) notify(id string, st *container.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w, ok := d.watchers[id]; ok {
		w.st = st
		close(w.ch)
		delete(d.watchers, id)
	}
}
