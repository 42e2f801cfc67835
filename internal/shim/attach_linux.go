package shim

import (
	"bufio"
	"net"
	"sync"
	"time"
)

// maxHeld bounds the output kept for attaches that have not connected yet
// (HoldOutput); past it the oldest is dropped, as a log viewer would.
const maxHeld = 1 << 20

// holdTimeout ends HoldOutput if the daemon never releases it.
const holdTimeout = 10 * time.Second

// release ends HoldOutput.
func (s *server) release() {
	s.mu.Lock()
	s.holding, s.held, s.heldLen = false, nil, 0
	s.mu.Unlock()
}

// hold keeps a chunk for the attaches still to come. s.mu is held.
func (s *server) hold(f outFrame) {
	s.held = append(s.held, f)
	s.heldLen += len(f.p)
	for s.heldLen > maxHeld && len(s.held) > 1 {
		s.heldLen -= len(s.held[0].p)
		s.held = s.held[1:]
	}
}

// subscriberQueue is how many chunks of output may wait for one client
// (32K each at most): enough to absorb bursts, small for the shim's memory.
const subscriberQueue = 16

// subscriber is one attached client.
type subscriber struct {
	conn           net.Conn
	stdout, stderr bool
	ch             chan outFrame // output for the client; closed when the output ends
	quit           chan struct{} // the attach ends early (stdin ended without StdinOnce)
	gone           chan struct{} // the client is gone: drop its output
	quitOnce       sync.Once
	goneOnce       sync.Once
}

type outFrame struct {
	kind byte
	p    []byte
}

func (sub *subscriber) finish() { sub.quitOnce.Do(func() { close(sub.quit) }) }

// wants reports whether the client asked for this kind of output.
func (sub *subscriber) wants(kind byte) bool {
	return !(kind == frameStdout && !sub.stdout) && !(kind == frameStderr && !sub.stderr)
}

func (sub *subscriber) drop() {
	sub.goneOnce.Do(func() {
		close(sub.gone)
		sub.conn.Close()
	})
}

// attach registers a client before answering, so that output produced after
// the client hears back is delivered to it.
func (s *server) attach(conn net.Conn, br *bufio.Reader, req request) {
	sub := &subscriber{
		conn:   conn,
		stdout: req.Stdout,
		stderr: req.Stderr && !s.cfg.Tty,
		ch:     make(chan outFrame, subscriberQueue),
		quit:   make(chan struct{}),
		gone:   make(chan struct{}),
	}
	s.mu.Lock()
	ended := s.ended
	if !ended {
		s.subs[sub] = struct{}{}
	}
	// output held for the attaches that were waiting for the start; what
	// comes after this point reaches sub through its channel
	replay := append([]outFrame(nil), s.held...)
	s.mu.Unlock()
	err := writeJSON(conn, response{})
	for _, f := range replay {
		if err == nil && sub.wants(f.kind) {
			err = writeFrame(conn, f.kind, f.p)
		}
	}
	if err != nil || ended {
		if err == nil {
			_ = writeFrame(conn, frameEnd, nil)
		}
		s.unsubscribe(sub)
		sub.drop()
		return
	}
	go s.readClient(sub, br, req.Stdin)
	s.writeClient(sub)
}

func (s *server) unsubscribe(sub *subscriber) {
	s.mu.Lock()
	delete(s.subs, sub)
	s.mu.Unlock()
}

// writeClient sends output frames, then the end frame.
func (s *server) writeClient(sub *subscriber) {
	defer s.unsubscribe(sub)
	defer sub.drop()
	for {
		select {
		case f, ok := <-sub.ch:
			if !ok {
				_ = writeFrame(sub.conn, frameEnd, nil)
				return
			}
			if err := writeFrame(sub.conn, f.kind, f.p); err != nil {
				return
			}
		case <-sub.quit:
			_ = writeFrame(sub.conn, frameEnd, nil)
			return
		case <-sub.gone:
			return
		}
	}
}

// readClient forwards the client's input. A connection that closes without
// an end-of-input frame is a client gone (detached, cancelled): the
// container's stdin stays open.
func (s *server) readClient(sub *subscriber, br *bufio.Reader, stdin bool) {
	defer sub.drop()
	for {
		kind, p, err := readFrame(br)
		if err != nil {
			return
		}
		if !stdin {
			continue
		}
		switch kind {
		case frameStdin:
			s.stdio.writeStdin(p)
		case frameStdinClose:
			// docker: with StdinOnce (no TTY) the end of the client's input
			// closes the container's; otherwise it ends this attach only.
			if s.cfg.StdinOnce && !s.cfg.Tty {
				s.stdio.closeStdin()
			} else {
				sub.finish()
			}
		}
	}
}

// broadcast hands a copy of a chunk of output to every attached client that
// wants it. A slow client slows the output (as in docker); a gone one is
// skipped.
func (s *server) broadcast(kind byte, chunk []byte) {
	s.mu.Lock()
	if len(s.subs) == 0 && !s.holding {
		s.mu.Unlock()
		return
	}
	p := append([]byte(nil), chunk...)
	if s.holding {
		s.hold(outFrame{kind, p})
	}
	subs := make([]*subscriber, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.mu.Unlock()
	for _, sub := range subs {
		if !sub.wants(kind) {
			continue
		}
		select {
		case sub.ch <- outFrame{kind, p}:
		case <-sub.gone:
		case <-sub.quit:
		}
	}
}

// endAttaches ends every attach once the output is over. It runs after the
// copiers stopped, so nothing sends on the channels it closes.
func (s *server) endAttaches() {
	s.mu.Lock()
	s.ended = true
	subs := s.subs
	s.subs = map[*subscriber]struct{}{}
	s.mu.Unlock()
	for sub := range subs {
		close(sub.ch)
	}
}
