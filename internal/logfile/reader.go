package logfile

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// pollInterval is how often a follower looks for new entries.
const pollInterval = 100 * time.Millisecond

// Message is one log entry.
type Message struct {
	Stream string    // "stdout" or "stderr"
	Line   []byte    // the entry's "log" field verbatim, newline included unless partial
	Time   time.Time // when the shim read the output
}

// ReadOptions selects the entries Read returns.
type ReadOptions struct {
	Tail   int       // the last Tail entries only; -1 (or any negative) for all
	Since  time.Time // entries at or after Since (zero: no bound)
	Until  time.Time // entries at or before Until (zero: no bound)
	Follow bool      // keep reading new entries until done is closed or ctx is cancelled
}

// Read streams the entries of the json-file log at path. The message channel
// is closed when reading ends; the error channel then yields at most one
// error (ctx.Err() when cancelled) and is closed. A missing log reads as
// empty (a follower waits for it to appear). With Follow, closing done (the
// container stopped and its shim flushed the log) makes Read drain what is
// left in the file and stop.
func Read(ctx context.Context, path string, o ReadOptions, done <-chan struct{}) (<-chan Message, <-chan error) {
	msgs := make(chan Message, 64)
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		defer close(msgs)
		if err := read(ctx, path, o, done, msgs); err != nil {
			errs <- err
		}
	}()
	return msgs, errs
}

func read(ctx context.Context, path string, o ReadOptions, done <-chan struct{}, out chan<- Message) error {
	f, err := openLog(ctx, path, o.Follow, done)
	if err != nil || f == nil {
		return err
	}
	defer f.Close()
	if o.Tail >= 0 {
		off, err := tailOffset(f, o.Tail)
		if err != nil {
			return err
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("read container log: %w", err)
		}
	}
	r := &entryReader{r: bufio.NewReaderSize(f, 64*1024), o: o, out: out}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	finished := false
	for {
		stop, err := r.drain(ctx)
		if err != nil || stop || !o.Follow || finished {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			finished = true // drain once more: the shim wrote its last entries before done
			done = nil
		case <-ticker.C:
		}
	}
}

// openLog opens the log; a missing one is nil, or awaited when following.
func openLog(ctx context.Context, path string, follow bool, done <-chan struct{}) (*os.File, error) {
	for {
		f, err := os.Open(path)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open container log: %w", err)
		}
		if !follow {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-done:
			return nil, nil
		case <-time.After(pollInterval):
		}
	}
}

// entryReader decodes entries, keeping a trailing partial line until the
// writer completes it.
type entryReader struct {
	r       *bufio.Reader
	o       ReadOptions
	out     chan<- Message
	pending []byte
}

// drain sends every complete entry up to the end of the file. stop reports
// that Until was passed.
func (e *entryReader) drain(ctx context.Context) (stop bool, err error) {
	for {
		chunk, err := e.r.ReadSlice('\n')
		e.pending = append(e.pending, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read container log: %w", err)
		}
		line := e.pending
		e.pending = e.pending[:0]
		m, ok := decode(line)
		if !ok {
			continue // a damaged entry (disk full, crash) must not end the stream
		}
		if !e.o.Until.IsZero() && m.Time.After(e.o.Until) {
			return true, nil
		}
		if !e.o.Since.IsZero() && m.Time.Before(e.o.Since) {
			continue
		}
		select {
		case e.out <- m:
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
}

func decode(line []byte) (Message, bool) {
	var en entry
	if err := json.Unmarshal(line, &en); err != nil {
		return Message{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, en.Time)
	if err != nil {
		return Message{}, false
	}
	return Message{Stream: en.Stream, Line: []byte(en.Log), Time: t}, true
}
