package cli

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

func TestPrintEvent(t *testing.T) {
	ts := time.Date(2026, 11, 29, 4, 30, 0, 123456789, time.Local)
	start := events.Message{Type: events.ContainerEventType, Action: events.ActionStart, Scope: "local",
		Actor: events.Actor{ID: "abc", Attributes: map[string]string{"name": "x", "image": "busybox"}},
		Time:  ts.Unix(), TimeNano: ts.UnixNano()}
	prune := events.Message{Type: events.NetworkEventType, Action: events.ActionPrune, Time: ts.Unix(),
		Actor: events.Actor{Attributes: map[string]string{"reclaimed": "0"}}}
	for _, tc := range []struct {
		name, format string
		m            events.Message
		want         string
	}{
		{"default", "", start, ts.Format("2006-01-02T15:04:05.000000000Z07:00") + " container start abc (image=busybox, name=x)\n"},
		{"default seconds only, no actor id", "", prune, time.Unix(ts.Unix(), 0).Format("2006-01-02T15:04:05.000000000Z07:00") + " network prune  (reclaimed=0)\n"},
		{"json", "json", start, `{"status":"start","id":"abc","from":"busybox","Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"image":"busybox","name":"x"}},"scope":"local","time":` +
			itoa(ts.Unix()) + `,"timeNano":` + itoa(ts.UnixNano()) + "}\n"},
		{"template", "{{.Type}} {{.Status}} {{.ID}} {{.Actor.Attributes.name}} {{.From}}", start, "container start abc x busybox\n"},
		{"json of a network event has no legacy fields", "{{json .}}", prune, `{"Type":"network","Action":"prune","Actor":{"ID":"","Attributes":{"reclaimed":"0"}},"time":` + itoa(ts.Unix()) + "}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := eventsTemplate(tc.format)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := printEvent(&out, tc.m, tmpl); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Fatalf("got  %q\nwant %q", out.String(), tc.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestEventsBadFormatIsRefusedUpFront(t *testing.T) {
	if _, err := eventsTemplate("{{.NoSuchField}}"); err == nil {
		t.Fatal("a template naming an unknown field was accepted")
	}
	err := runEvents(t.Context(), &Cli{}, eventsOptions{format: "{{.Bad"})
	var se StatusError
	if !errors.As(err, &se) || se.StatusCode != 64 {
		t.Fatalf("err %v, want exit status 64", err)
	}
}
