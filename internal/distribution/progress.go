package distribution

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// Progress receives a pull's or push's progress in docker's terms. It is
// called from several goroutines at once.
type Progress func(ProgressEvent)

// ProgressEvent is one progress message: an ID (a layer's short digest, a
// tag, or "" for a line about the whole operation), a status, and for
// transfers the bytes done and expected.
type ProgressEvent struct {
	ID             string
	Status         string
	Detail         bool // a layer's status: docker sends a progressDetail, even empty
	Current, Total int64
	Aux            any // push's closing {Tag, Digest, Size}
}

// throttle lets through one progress update per interval, and the last.
type throttle struct {
	mu   sync.Mutex
	last time.Time
}

func (t *throttle) ok(final bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if !final && now.Sub(t.last) < 100*time.Millisecond {
		return false
	}
	t.last = now
	return true
}

// progressReader reports the bytes read through it.
type progressReader struct {
	r io.Reader
	n int64
	f func(n int64, final bool)
}

func (c *progressReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.f(c.n, false)
	return n, err
}

func (c *progressReader) done() { c.f(c.n, true) }

// shortDigest is the 12-character id docker shows for a layer.
func shortDigest(d digest.Digest) string {
	e := d.Encoded()
	if len(e) > 12 {
		e = e[:12]
	}
	return e
}

// firstError keeps the first of concurrent failures.
type firstError struct {
	mu  sync.Mutex
	err error
}

// set records err unless one is already there, and reports whether it did.
func (f *firstError) set(err error) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil || errors.Is(err, context.Canceled) {
		return false
	}
	f.err = err
	return true
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
