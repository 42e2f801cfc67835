package tasks

import "time"

// attachConnectTimeout bounds how long a start waits for attaches to connect.
const attachConnectTimeout = 5 * time.Second

// PendingAttach is an attach to a container that does not run yet, waiting
// for its start.
type PendingAttach struct {
	ready     chan Shim     // receives the shim once the process runs
	connected chan struct{} // closed once the attach reached the shim
}

// Ready delivers the started container's shim.
func (p *PendingAttach) Ready() <-chan Shim { return p.ready }

// Connected tells the starting container that the attach streams: the
// output the shim held for it has been delivered.
func (p *PendingAttach) Connected() { close(p.connected) }

// AddPendingAttach registers an attach waiting for id's next start, which
// then holds the output until the attach connected.
func (s *Supervisor) AddPendingAttach(id string) *PendingAttach {
	p := &PendingAttach{ready: make(chan Shim, 1), connected: make(chan struct{})}
	s.mu.Lock()
	s.pending[id] = append(s.pending[id], p)
	s.mu.Unlock()
	return p
}

// RemovePendingAttach unregisters p (the attach ended or gave up).
func (s *Supervisor) RemovePendingAttach(id string, p *PendingAttach) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.pending[id]
	for i, q := range list {
		if q == p {
			s.pending[id] = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(s.pending[id]) == 0 {
		delete(s.pending, id)
	}
}

func (s *Supervisor) hasPendingAttaches(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending[id]) > 0
}

// connectPendingAttaches hands the new shim to every waiting attach and
// waits (briefly) until each has connected, so none misses the first output.
func (s *Supervisor) connectPendingAttaches(id string, sh Shim) {
	s.mu.Lock()
	list := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	for _, p := range list {
		p.ready <- sh
	}
	for _, p := range list {
		select {
		case <-p.connected:
		case <-time.After(attachConnectTimeout):
			s.log.Warn("attach did not connect in time", "id", id)
		}
	}
}
