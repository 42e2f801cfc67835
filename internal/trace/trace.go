// Package trace times the steps of one traced `run` (opt-in): the CLI, when
// BERTH_TRACE is set, sends a trace id in the X-Berth-Trace header of each
// request; berthd in debug mode (-D) carries that id in the request's
// context, and on to the container's task for the steps after the request
// (exit, teardown, removal). Each step is written as one line:
//
//	berth-trace id=<id> src=<cli|berthd|shim> step=<name> start=<unix ns> dur=<ns>
//
// in berthd's log and on the CLI's stderr (or the file BERTH_TRACE names);
// `go run ./bench/trace` merges both into one timeline. A nil *Trace (no
// trace asked, or berthd not in debug mode) does nothing and allocates
// nothing: the cost when off is one nil check per step.
package trace

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Header is the request header carrying the trace id.
const Header = "X-Berth-Trace"

// Prefix starts every trace line.
const Prefix = "berth-trace "

// Trace is one traced operation's sink. The zero of *Trace (nil) is off.
type Trace struct {
	ID  string
	Src string // who writes: cli, berthd

	mu sync.Mutex
	w  io.Writer
}

// New returns a trace writing its lines to w.
func New(id, src string, w io.Writer) *Trace {
	return &Trace{ID: id, Src: src, w: w}
}

// Step records a step that began at start and ends now.
func (t *Trace) Step(name string, start time.Time) {
	if t == nil {
		return
	}
	t.Span(name, start, time.Now())
}

// Span records a step from start to end.
func (t *Trace) Span(name string, start, end time.Time) {
	if t == nil {
		return
	}
	t.SpanFrom(t.Src, name, start, end)
}

// SpanFrom records a step measured by another program (the shim).
func (t *Trace) SpanFrom(src, name string, start, end time.Time) {
	if t == nil || start.IsZero() || end.IsZero() {
		return
	}
	line := Line{ID: t.ID, Src: src, Step: name, Start: start, Dur: end.Sub(start)}.String()
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.w, line+"\n")
}

// Begin starts a step and returns the function that ends it, for defer.
func (t *Trace) Begin(name string) func() {
	if t == nil {
		return func() {}
	}
	start := time.Now()
	return func() { t.Step(name, start) }
}

type ctxKey struct{}

// With returns ctx carrying t (ctx itself when t is nil).
func With(ctx context.Context, t *Trace) context.Context {
	if t == nil {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, t)
}

// From returns the trace ctx carries, or nil.
func From(ctx context.Context) *Trace {
	if ctx == nil {
		return nil
	}
	t, _ := ctx.Value(ctxKey{}).(*Trace)
	return t
}

// Line is one recorded step.
type Line struct {
	ID    string
	Src   string
	Step  string
	Start time.Time
	Dur   time.Duration
}

// String is the line as written (without the newline); the spaces of a
// step's name become ':' ("api POST /containers/create" is
// "api:POST:/containers/create").
func (l Line) String() string {
	step := strings.ReplaceAll(l.Step, " ", ":")
	return fmt.Sprintf("%sid=%s src=%s step=%s start=%d dur=%d", Prefix, l.ID, l.Src, step, l.Start.UnixNano(), int64(l.Dur))
}

// Parse finds a trace line in s (a log line may hold it after its own
// prefix); ok is false when s holds none.
func Parse(s string) (l Line, ok bool) {
	i := strings.Index(s, Prefix)
	if i < 0 {
		return l, false
	}
	var start, dur int64
	for _, f := range strings.Fields(s[i+len(Prefix):]) {
		k, v, _ := strings.Cut(f, "=")
		v = strings.Trim(v, `"`)
		switch k {
		case "id":
			l.ID = v
		case "src":
			l.Src = v
		case "step":
			l.Step = v
		case "start":
			_, _ = fmt.Sscan(v, &start)
		case "dur":
			_, _ = fmt.Sscan(v, &dur)
		}
	}
	if l.ID == "" || l.Step == "" || start == 0 {
		return Line{}, false
	}
	l.Start, l.Dur = time.Unix(0, start), time.Duration(dur)
	return l, true
}

// ValidID reports whether id is usable as a trace id (it is written into
// log lines unquoted): 1 to 64 letters, digits, '-' or '_'.
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
