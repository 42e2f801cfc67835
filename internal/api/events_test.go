package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	eventlog "github.com/berth-project/berth/internal/events"
)

// fakeEvents is the fake backend's event log: the real one.
type fakeEvents struct {
	once sync.Once
	log  *eventlog.Log
}

func (f *fakeBackend) eventLog() *eventlog.Log {
	f.events.once.Do(func() { f.events.log = eventlog.New(0) })
	return f.events.log
}

func (f *fakeBackend) SubscribeEvents(ctx context.Context, since, until time.Time, filters Filters) ([]events.Message, EventSubscription) {
	return f.eventLog().Subscribe(since, until, eventlog.Filter(filters))
}

func logContainer(f *fakeBackend, action events.Action, id string) events.Message {
	return f.eventLog().Log(events.ContainerEventType, action, events.Actor{ID: id, Attributes: map[string]string{"image": "busybox", "name": id}})
}

// collect reads the client's events until its stream ends (or 5s pass).
func collect(t *testing.T, res client.EventsResult) []events.Message {
	t.Helper()
	var got []events.Message
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-res.Messages:
			got = append(got, m)
		case err := <-res.Err:
			if err != nil && !strings.Contains(err.Error(), "EOF") {
				t.Fatalf("events stream: %v", err)
			}
			return got
		case <-timeout:
			t.Fatalf("events stream did not end; got %d events", len(got))
		}
	}
}

func actions(ms []events.Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Action)+" "+m.Actor.ID)
	}
	return strings.Join(out, ", ")
}

func TestEventsReplaySinceUntil(t *testing.T) {
	env := newTestEnv(t)
	logContainer(env.fake, events.ActionCreate, "a")
	logContainer(env.fake, events.ActionStart, "a")
	env.fake.eventLog().Log(events.NetworkEventType, events.ActionConnect, events.Actor{ID: "n", Attributes: map[string]string{"name": "net", "container": "a"}})
	now := time.Now()

	// the client sends durations as whole seconds: "0s" would be the start
	// of this second, before the events
	got := collect(t, env.client.Events(testCtx(t), client.EventsListOptions{Since: "1m", Until: fmt.Sprint(now.Unix() + 1)}))
	if s := actions(got); s != "create a, start a, connect n" {
		t.Fatalf("replayed %q", s)
	}
	got = collect(t, env.client.Events(testCtx(t), client.EventsListOptions{
		Since: "1m", Until: fmt.Sprint(now.Unix() + 1), Filters: make(client.Filters).Add("type", "container").Add("event", "start"),
	}))
	if s := actions(got); s != "start a" {
		t.Fatalf("filtered replay %q", s)
	}
	got = collect(t, env.client.Events(testCtx(t), client.EventsListOptions{Since: now.Add(-time.Hour).Format(time.RFC3339), Until: now.Add(-time.Minute).Format(time.RFC3339)}))
	if len(got) != 0 {
		t.Fatalf("events before until: %q", actions(got))
	}
}

func TestEventsStreamLiveUntilClientGoes(t *testing.T) {
	env := newTestEnv(t)
	logContainer(env.fake, events.ActionCreate, "old") // not replayed: no since
	ctx, cancel := context.WithCancel(testCtx(t))
	res := env.client.Events(ctx, client.EventsListOptions{Filters: make(client.Filters).Add("container", "b")})
	deadline := time.Now().Add(5 * time.Second)
	for env.fake.eventLog().Subscribers() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	logContainer(env.fake, events.ActionStart, "a")
	logContainer(env.fake, events.ActionStart, "b")
	logContainer(env.fake, events.ActionDie, "b")
	for _, want := range []string{"start b", "die b"} {
		select {
		case m := <-res.Messages:
			if got := string(m.Action) + " " + m.Actor.ID; got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case err := <-res.Err:
			t.Fatalf("stream ended: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q event", want)
		}
	}
	cancel()
	for env.fake.eventLog().Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the subscription outlived its client")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventsUntilInTheFutureEnds(t *testing.T) {
	env := newTestEnv(t)
	began := time.Now()
	until := began.Add(300 * time.Millisecond)
	resp := env.do(t, http.MethodGet, fmt.Sprintf("/v1.56/events?until=%d.%09d", until.Unix(), until.Nanosecond()), "", nil)
	go func() {
		time.Sleep(50 * time.Millisecond)
		logContainer(env.fake, events.ActionStart, "live")
	}()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if took := time.Since(began); took < 250*time.Millisecond || took > 4*time.Second {
		t.Fatalf("stream ended after %s, want at until", took)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `"live"`) {
		t.Fatalf("lines %q, want the live event", lines)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/jsonl" {
		t.Fatalf("Content-Type %q", ct)
	}
}

func TestEventsLegacyFieldsAndContentType(t *testing.T) {
	env := newTestEnv(t)
	logContainer(env.fake, events.ActionStart, "c1")
	env.fake.eventLog().Log(events.ImageEventType, events.ActionTag, events.Actor{ID: "sha256:1", Attributes: map[string]string{"name": "x:1"}})
	env.fake.eventLog().Log(events.ImageEventType, events.ActionCreate, events.Actor{ID: "sha256:2"})
	env.fake.eventLog().Log(events.VolumeEventType, events.ActionCreate, events.Actor{ID: "v", Attributes: map[string]string{"driver": "local"}})

	for _, tc := range []struct {
		version, accept, contentType string
		agent                        string
		want                         []string
	}{
		{"1.45", "", "application/json", "", []string{
			`{"status":"start","id":"c1","from":"busybox","Type":"container","Action":"start",`,
			`{"status":"tag","id":"sha256:1","Type":"image","Action":"tag",`,
			`{"Type":"volume","Action":"create",`,
		}},
		{"1.51", "", "application/json", "", []string{
			`{"status":"start","id":"c1","from":"busybox",`, `{"status":"tag",`, `{"status":"create","id":"sha256:2",`, `{"Type":"volume",`,
		}},
		{"1.56", "application/x-ndjson", "application/x-ndjson", "", []string{
			`{"Type":"container","Action":"start","Actor":{"ID":"c1","Attributes":{"image":"busybox","name":"c1"}},"scope":"local","time":`,
			`{"Type":"image","Action":"tag",`, `{"Type":"image","Action":"create",`, `{"Type":"volume",`,
		}},
		{"1.56", "application/json-seq", "application/json-seq", "", []string{"\x1e{\"Type\":\"container\"", "\x1e{", "\x1e{", "\x1e{"}},
		// docker-compose 1.29 asks for the newest version and reads id
		{"1.56", "", "application/jsonl", "docker-compose/1.29.2 docker-py/5.0.3 Linux/6.1.0", []string{
			`{"status":"start","id":"c1","from":"busybox",`, `{"status":"tag",`, `{"status":"create","id":"sha256:2",`, `{"Type":"volume",`,
		}},
	} {
		t.Run(tc.version+tc.accept+tc.agent, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://docker/v%s/events?since=0&until=%d", tc.version, time.Now().Unix()+1), nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			req.Header.Set("User-Agent", tc.agent)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := env.httpClient().Do(req.WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			var lines []string
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			if len(lines) != len(tc.want) {
				t.Fatalf("%d lines, want %d: %q", len(lines), len(tc.want), lines)
			}
			for i, prefix := range tc.want {
				if !strings.HasPrefix(lines[i], prefix) {
					t.Errorf("line %d = %q, want prefix %q", i, lines[i], prefix)
				}
				var v map[string]any
				if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[i], "\x1e")), &v); err != nil {
					t.Errorf("line %d is not JSON: %v", i, err)
				}
			}
		})
	}
}

func TestEventsBadRequests(t *testing.T) {
	env := newTestEnv(t)
	for _, tc := range []struct{ query, message string }{
		{"since=yesterday", "invalid value for 'since'"},
		{"until=1.x", "invalid value for 'until'"},
		{"since=200&until=100", "`since` time (200) cannot be after `until` time (100)"},
		{"filters=%7Bbad", "invalid filter"},
	} {
		resp := env.do(t, http.MethodGet, "/events?"+tc.query, "", nil)
		var body struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body.Message, tc.message) {
			t.Errorf("%s: %d %q, want 400 with %q", tc.query, resp.StatusCode, body.Message, tc.message)
		}
	}
}
