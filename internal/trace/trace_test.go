package trace

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestLineRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	tr := New("ab12", "berthd", &buf)
	start := time.Unix(0, 1795967554930129823)
	tr.Span("create rootfs (snapshot, rw layer)", start, start.Add(3*time.Millisecond))
	// as berthd's log holds it: inside a quoted slog message
	logged := `time=x level=DEBUG msg="` + strings.TrimSuffix(buf.String(), "\n") + `"`
	l, ok := Parse(logged)
	if !ok {
		t.Fatalf("no trace line in %q", logged)
	}
	want := Line{ID: "ab12", Src: "berthd", Step: "create:rootfs:(snapshot,:rw:layer)", Start: start, Dur: 3 * time.Millisecond}
	if l != want {
		t.Fatalf("parsed %+v, want %+v", l, want)
	}
	if _, ok := Parse("time=x level=DEBUG msg=\"api: POST /containers/create took 1ms\""); ok {
		t.Fatal("an ordinary log line parsed as a trace line")
	}
}

func TestOffCostsNothing(t *testing.T) {
	var tr *Trace // off
	tr.Step("x", time.Now())
	tr.Span("x", time.Now(), time.Now())
	tr.Begin("x")()
	ctx := context.Background()
	if With(ctx, nil) != ctx || From(ctx) != nil {
		t.Fatal("a nil trace changed the context")
	}
	allocs := testing.AllocsPerRun(100, func() {
		From(ctx).Step("x", time.Time{})
	})
	if allocs != 0 {
		t.Fatalf("an off trace allocates %v times per step", allocs)
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"d4d579f9be8c360e": true, "run_1-a": true, "": false, "a b": false, `a"b`: false,
		"x\nberth-trace id=y": false, strings.Repeat("a", 65): false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}
