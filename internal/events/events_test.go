package events

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

// clock returns a log whose events are stamped one second apart from t0.
func clockedLog(limit int, t0 time.Time) *Log {
	l := New(limit)
	n := 0
	l.now = func() time.Time { n++; return t0.Add(time.Duration(n) * time.Second) }
	return l
}

func actor(id string) events.Actor {
	return events.Actor{ID: id, Attributes: map[string]string{"name": id}}
}

func ids(ms []events.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Actor.ID)
	}
	return out
}

func TestLogStampsScopeAndTime(t *testing.T) {
	l := New(0)
	before := time.Now()
	m := l.Log(events.ContainerEventType, events.ActionStart, actor("c1"))
	if m.Scope != "local" || m.Time == 0 || m.TimeNano < before.UnixNano() || m.Time != m.TimeNano/1e9 {
		t.Fatalf("message %+v: want scope local and now as Time/TimeNano", m)
	}
}

func TestReplayBoundsAndLimit(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	l := clockedLog(3, t0)
	for i := 1; i <= 5; i++ { // at t0+1s .. t0+5s; the first two fall out
		l.Log(events.ContainerEventType, events.ActionCreate, actor(fmt.Sprint("c", i)))
	}
	for _, tc := range []struct {
		name         string
		since, until time.Time
		want         string
	}{
		{"no bounds replays nothing", time.Time{}, time.Time{}, "[]"},
		{"since keeps only the last limit", t0, time.Time{}, "[c3 c4 c5]"},
		{"since is inclusive", t0.Add(4 * time.Second), time.Time{}, "[c4 c5]"},
		{"until is inclusive", time.Time{}, t0.Add(4 * time.Second), "[c3 c4]"},
		{"both", t0.Add(4 * time.Second), t0.Add(4 * time.Second), "[c4]"},
		{"future since", t0.Add(time.Hour), time.Time{}, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			past, sub := l.Subscribe(tc.since, tc.until, nil)
			defer sub.Close()
			if got := fmt.Sprint(ids(past)); got != tc.want {
				t.Fatalf("replayed %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSubscriptionReceivesLiveFilteredInOrder(t *testing.T) {
	l := New(0)
	l.Log(events.ContainerEventType, events.ActionCreate, actor("before"))
	past, sub := l.Subscribe(time.Time{}, time.Time{}, Filter{"type": {"container"}})
	defer sub.Close()
	if len(past) != 0 {
		t.Fatalf("replayed %v without bounds", ids(past))
	}
	l.Log(events.ContainerEventType, events.ActionStart, actor("a"))
	l.Log(events.NetworkEventType, events.ActionConnect, actor("net"))
	l.Log(events.ContainerEventType, events.ActionDie, actor("b"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, want := range []string{"a", "b"} {
		m, err := sub.Next(ctx)
		if err != nil || m.Actor.ID != want {
			t.Fatalf("Next = %v, %v; want %s", m.Actor.ID, err, want)
		}
	}
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if m, err := sub.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next after the last event = %+v, %v; want the context's deadline", m, err)
	}
}

func TestSubscriptionWakesWaiter(t *testing.T) {
	l := New(0)
	_, sub := l.Subscribe(time.Time{}, time.Time{}, nil)
	defer sub.Close()
	got := make(chan string, 1)
	go func() {
		m, err := sub.Next(context.Background())
		got <- fmt.Sprint(m.Actor.ID, err)
	}()
	time.Sleep(20 * time.Millisecond)
	l.Log(events.VolumeEventType, events.ActionCreate, actor("v"))
	select {
	case s := <-got:
		if s != "v<nil>" {
			t.Fatalf("waiter got %s", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting subscriber was not woken by a new event")
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	l := New(0)
	_, sub := l.Subscribe(time.Time{}, time.Time{}, nil)
	l.Log(events.ImageEventType, events.ActionTag, actor("img"))
	if l.Subscribers() != 1 {
		t.Fatalf("%d subscribers, want 1", l.Subscribers())
	}
	sub.Close()
	if l.Subscribers() != 0 {
		t.Fatalf("%d subscribers after Close, want 0", l.Subscribers())
	}
	// What was queued before Close is still delivered, then ErrClosed.
	if m, err := sub.Next(context.Background()); err != nil || m.Actor.ID != "img" {
		t.Fatalf("Next = %+v, %v; want the queued event", m, err)
	}
	if _, err := sub.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close = %v, want ErrClosed", err)
	}

	_, sub2 := l.Subscribe(time.Time{}, time.Time{}, nil)
	l.Close()
	if _, err := sub2.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after the log's Close = %v, want ErrClosed", err)
	}
	_, sub3 := l.Subscribe(time.Time{}, time.Time{}, nil)
	if _, err := sub3.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("subscribing to a closed log: Next = %v, want ErrClosed", err)
	}
}

func TestSlowSubscriberIsDroppedNotBlocking(t *testing.T) {
	l := New(0)
	_, sub := l.Subscribe(time.Time{}, time.Time{}, nil)
	defer sub.Close()
	done := make(chan struct{})
	go func() {
		for range maxPending + 10 {
			l.Log(events.ContainerEventType, events.ActionTop, actor("c"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("publishing blocked on a subscriber that does not read")
	}
	if _, err := sub.Next(context.Background()); !errors.Is(err, ErrSlowSubscriber) {
		t.Fatalf("Next = %v, want ErrSlowSubscriber", err)
	}
	if l.Subscribers() != 0 {
		t.Fatalf("the slow subscriber is still subscribed")
	}
}
