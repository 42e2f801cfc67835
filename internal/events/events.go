// Package events owns berthd's event log: a bounded in-memory record of the
// engine's recent events (docker's events.Message), replayed to subscribers
// by time (`since`/`until`) and fanned out to them live, each through
// docker's event filters. Publishing never blocks on a slow subscriber.
package events

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
)

// DefaultLimit is how many events the log keeps for replay. dockerd keeps
// 256; berth keeps more so that `--since` still finds a container's events on
// a busy engine.
const DefaultLimit = 1024

// maxPending bounds what one subscriber may leave unread before it is
// dropped (ErrSlowSubscriber), so a stuck client costs bounded memory.
const maxPending = 8192

// ErrSlowSubscriber ends a subscription that fell maxPending events behind.
var ErrSlowSubscriber = errors.New("events: subscriber too slow, events were dropped")

// ErrClosed ends the subscriptions of a closed log, and a cancelled one.
var ErrClosed = errors.New("events: subscription closed")

// Log is the engine's event log. The zero value is not usable: use New.
type Log struct {
	mu     sync.Mutex
	limit  int
	ring   []events.Message // oldest first, at most limit long
	subs   map[*Subscription]struct{}
	closed bool
	now    func() time.Time
}

// New returns a log keeping the last limit events (DefaultLimit when
// limit <= 0).
func New(limit int) *Log {
	if limit <= 0 {
		limit = DefaultLimit
	}
	return &Log{limit: limit, subs: map[*Subscription]struct{}{}, now: time.Now}
}

// Log records an event of the engine (scope "local") stamped now, and
// returns it.
func (l *Log) Log(typ events.Type, action events.Action, actor events.Actor) events.Message {
	now := l.now().UTC()
	m := events.Message{
		Type:     typ,
		Action:   action,
		Actor:    actor,
		Scope:    "local",
		Time:     now.Unix(),
		TimeNano: now.UnixNano(),
	}
	l.Publish(m)
	return m
}

// Publish records m and hands it to every subscriber whose filter it
// passes. Events are recorded in the order Publish is called.
func (l *Log) Publish(m events.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if len(l.ring) == l.limit {
		copy(l.ring, l.ring[1:])
		l.ring[len(l.ring)-1] = m
	} else {
		l.ring = append(l.ring, m)
	}
	for s := range l.subs {
		if s.filter.Match(m) {
			s.push(m)
		}
	}
}

// Subscribe returns the recorded events between since and until (both
// inclusive; a zero bound is open) that pass f, oldest first, and a
// subscription receiving the events published from now on that pass f.
// As dockerd, nothing is replayed when both bounds are zero. The caller
// must Close the subscription.
func (l *Log) Subscribe(since, until time.Time, f Filter) ([]events.Message, *Subscription) {
	s := &Subscription{log: l, filter: f, wake: make(chan struct{}, 1)}
	l.mu.Lock()
	defer l.mu.Unlock()
	past := replay(l.ring, since, until, f)
	if l.closed {
		s.err = ErrClosed
	} else {
		l.subs[s] = struct{}{}
	}
	return past, s
}

// replay picks from ring (oldest first) the events within [since, until]
// that pass f.
func replay(ring []events.Message, since, until time.Time, f Filter) []events.Message {
	if since.IsZero() && until.IsZero() {
		return nil
	}
	var out []events.Message
	for _, m := range ring {
		if !since.IsZero() && m.TimeNano < since.UnixNano() {
			continue
		}
		if !until.IsZero() && m.TimeNano > until.UnixNano() {
			continue
		}
		if f.Match(m) {
			out = append(out, m)
		}
	}
	return out
}

// Subscribers is how many subscriptions are open.
func (l *Log) Subscribers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.subs)
}

// Close ends every subscription (their Next returns ErrClosed once drained)
// and stops recording.
func (l *Log) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for s := range l.subs {
		s.end(ErrClosed)
		delete(l.subs, s)
	}
}

func (l *Log) unsubscribe(s *Subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.subs, s)
}

// Subscription is one subscriber's queue of live events.
type Subscription struct {
	log    *Log
	filter Filter
	wake   chan struct{} // signalled when the queue grows or ends

	mu    sync.Mutex
	queue []events.Message
	err   error // set when the subscription ended
}

// push queues m; called with the log's lock held.
func (s *Subscription) push(m events.Message) {
	s.mu.Lock()
	if s.err == nil {
		if len(s.queue) >= maxPending {
			s.err = ErrSlowSubscriber
			s.queue = nil
			delete(s.log.subs, s)
		} else {
			s.queue = append(s.queue, m)
		}
	}
	s.mu.Unlock()
	s.signal()
}

func (s *Subscription) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.signal()
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Next waits for the next event. It returns ctx's error when ctx ends first,
// ErrClosed after Close (or the log's Close) once the queue is drained, and
// ErrSlowSubscriber when the subscriber fell too far behind.
func (s *Subscription) Next(ctx context.Context) (events.Message, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			m := s.queue[0]
			s.queue[0] = events.Message{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return m, nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return events.Message{}, err
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return events.Message{}, ctx.Err()
		}
	}
}

// Close unsubscribes; it may be called more than once.
func (s *Subscription) Close() {
	s.log.unsubscribe(s)
	s.end(ErrClosed)
}
