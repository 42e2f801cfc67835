package daemon

// watch lets waiters learn that a container's state changed: the channel is
// closed on every change and replaced by a fresh one.
type watch struct{ ch chan struct{} }

// changes returns a channel closed at the container's next state change
// (including its removal).
func (d *Daemon) changes(id string) <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	w, ok := d.watchers[id]
	if !ok {
		w = &watch{ch: make(chan struct{})}
		d.watchers[id] = w
	}
	return w.ch
}

// notify wakes everyone waiting on the container's state.
func (d *Daemon) notify(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w, ok := d.watchers[id]; ok {
		close(w.ch)
		delete(d.watchers, id)
	}
}
