package logfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pollInterval is how often a follower looks for new entries.
const pollInterval = 100 * time.Millisecond

// Message is one log entry.
type Message struct {
	Stream string            // "stdout" or "stderr"
	Line   []byte            // the entry's payload verbatim, newline included unless partial
	Time   time.Time         // when the shim read the output
	Attrs  map[string]string // docker's extra attributes (json-file "attrs"), or nil
}

// ReadOptions selects the entries Read returns.
type ReadOptions struct {
	Format Format
	Tail   int       // the last Tail entries only; -1 (or any negative) for all
	Since  time.Time // entries at or after Since (zero: no bound)
	Until  time.Time // entries at or before Until (zero: no bound)
	Follow bool      // keep reading new entries until done is closed or ctx is cancelled
}

// Read streams the entries of the log at path and of its rotated files,
// oldest first. The message channel is closed when reading ends; the error
// channel then yields at most one error (ctx.Err() when cancelled) and is
// closed. A missing log reads as empty (a follower waits for it to appear).
// A follower goes on through rotations, reading each entry once. With
// Follow, closing done (the container stopped and its shim flushed the log)
// makes Read drain what is left and stop.
func Read(ctx context.Context, path string, o ReadOptions, done <-chan struct{}) (<-chan Message, <-chan error) {
	msgs := make(chan Message, 64)
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		defer close(msgs)
		r := &reader{path: path, o: o, out: msgs}
		if err := r.read(ctx, done); err != nil {
			errs <- err
		}
	}()
	return msgs, errs
}

type reader struct {
	path string
	o    ReadOptions
	out  chan<- Message
}

func (r *reader) read(ctx context.Context, done <-chan struct{}) error {
	cur, err := openLog(ctx, r.path, r.o.Follow, done)
	if err != nil || cur == nil {
		return err
	}
	defer func() { cur.Close() }()
	st, err := cur.Stat()
	if err != nil {
		return fmt.Errorf("read container log: %w", err)
	}
	older, err := rotated(r.path, nil, cur)
	if err != nil {
		return err
	}
	defer closeAll(older)
	parts, off, err := r.plan(older, cur, st.Size())
	if err != nil {
		return err
	}
	for _, p := range parts {
		if stop, err := r.readRotated(ctx, p.rotatedFile, p.skip); err != nil || stop {
			return err
		}
	}
	if _, err := cur.Seek(off, io.SeekStart); err != nil {
		return fmt.Errorf("read container log: %w", err)
	}
	e := r.entries(cur)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	finished := false
	for {
		stop, err := e.drain(ctx)
		if err != nil || stop || !r.o.Follow {
			return err
		}
		if next := nextLog(r.path, cur); next != nil {
			// Rotated: what was written before the rotation, then the files
			// rotated since (when the writer went faster than us), then the
			// new current file.
			if stop, err := e.drain(ctx); err != nil || stop {
				next.Close()
				return err
			}
			between, err := rotated(r.path, cur, next)
			if err != nil {
				next.Close()
				return err
			}
			for _, f := range between {
				if stop, err := r.readRotated(ctx, f, 0); err != nil || stop {
					closeAll(between)
					next.Close()
					return err
				}
			}
			closeAll(between)
			cur.Close()
			cur = next
			e = r.entries(cur)
			continue
		}
		if finished {
			return nil
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

// part is a rotated file to read, without its first skip entries.
type part struct {
	rotatedFile
	skip int
}

// plan picks, for --tail, the rotated files to read (oldest first) and the
// offset to start the current file at.
func (r *reader) plan(older []rotatedFile, cur *os.File, size int64) ([]part, int64, error) {
	if r.o.Tail < 0 {
		var parts []part
		for _, f := range older {
			if !f.last.IsZero() && !r.o.Since.IsZero() && f.last.Before(r.o.Since) {
				continue // all of it is before --since
			}
			parts = append(parts, part{rotatedFile: f})
		}
		return parts, 0, nil
	}
	off, got, err := tailOffset(cur, size, r.o.Tail)
	if err != nil || got >= r.o.Tail {
		return nil, off, err
	}
	var parts []part
	need := r.o.Tail - got
	for i := len(older) - 1; i >= 0 && need > 0; i-- {
		n, err := older[i].count()
		if err != nil {
			return nil, 0, err
		}
		skip := max(n-need, 0)
		need -= n - skip
		parts = append(parts, part{rotatedFile: older[i], skip: skip})
	}
	slices.Reverse(parts)
	return parts, 0, nil
}

// readRotated sends the entries of a rotated file after its first skip.
func (r *reader) readRotated(ctx context.Context, f rotatedFile, skip int) (stop bool, err error) {
	src, err := f.open()
	if err != nil {
		return false, err
	}
	e := r.entries(src)
	e.skip = skip
	return e.drain(ctx)
}

func (r *reader) entries(src io.Reader) *entryReader {
	return &entryReader{r: bufio.NewReaderSize(src, 64*1024), o: r.o, out: r.out}
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

// nextLog returns the file now at path when it is no longer cur (the
// writer rotated), else nil.
func nextLog(path string, cur *os.File) *os.File {
	st, err := os.Stat(path)
	if err != nil {
		return nil // between the rename and the new file, or gone with the container
	}
	cst, err := cur.Stat()
	if err != nil || os.SameFile(st, cst) {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	if fst, err := f.Stat(); err != nil || os.SameFile(fst, cst) {
		f.Close()
		return nil
	}
	return f
}

// rotatedFile is one rotated file of a log, opened when it was listed so
// that a rotation meanwhile does not change which file it is.
type rotatedFile struct {
	name string
	fh   *os.File
	size int64
	gz   bool
	id   fileID    // the file's identity: see fileID
	last time.Time // compressed: its last entry's time, if known
}

// rotated lists and opens the rotated files of the log at path, oldest
// first: those after the file after (all when after is nil or gone, since
// files are only ever removed oldest first) and before the file before.
// The caller closes them (closeAll).
func rotated(path string, after, before *os.File) ([]rotatedFile, error) {
	var files []rotatedFile
	// The files shift one place at each rotation: a listing is kept only if
	// no rotation happened while it was made (the file at path is the same
	// before and after; held open, its inode cannot be reused meanwhile).
	for try := 0; ; try++ {
		head, err := os.Open(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read container log: %w", err)
		}
		var consistent bool
		if files, consistent, err = listRotated(path); err != nil {
			if head != nil {
				head.Close()
			}
			return nil, err
		}
		stable := consistent // without a current file, a rotation is under way or the log is gone
		if head != nil {
			hst, err1 := head.Stat()
			st, err2 := os.Stat(path)
			stable = stable && err1 == nil && err2 == nil && os.SameFile(hst, st)
			head.Close()
		}
		if stable || try == 100 {
			break
		}
		closeAll(files)
		time.Sleep(2 * time.Millisecond)
	}

	cut := func(f *os.File) int {
		id, err := identify(f)
		if err != nil {
			return -1
		}
		// A plain file is open, so its inode is its own; a compressed one's
		// source is gone and its inode may have been reused since.
		return slices.IndexFunc(files, func(r rotatedFile) bool { return r.id == id || (!r.gz && r.id.ino == id.ino) })
	}
	if before != nil {
		if i := cut(before); i >= 0 {
			closeAll(files[i:])
			files = files[:i]
		}
	}
	if after != nil {
		if i := cut(after); i >= 0 {
			closeAll(files[:i+1])
			files = files[i+1:]
		}
	}
	return files, nil
}

// listRotated opens the rotated files of the log at path, oldest first.
// consistent is false when a rotation was under way (a file seen twice, or
// a slot empty below a full one: the files move up one slot at a time, the
// oldest first); the files are then each kept once.
func listRotated(path string) (files []rotatedFile, consistent bool, err error) {
	dir, base := filepath.Split(path)
	ents, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return nil, false, fmt.Errorf("read container log: %w", err)
	}
	highest := 0
	for _, ent := range ents {
		rest, ok := strings.CutPrefix(ent.Name(), base+".")
		if !ok {
			continue
		}
		num, _ := strings.CutSuffix(rest, ".gz")
		if n, err := strconv.Atoi(num); err == nil && strconv.Itoa(n) == num {
			highest = max(highest, n)
		}
	}
	consistent = true
	seen := map[fileID]bool{}
	gap := false
	// Slot by slot upwards, the way files move: none is missed.
	for n := 1; n <= highest+2; n++ {
		f, err := openRotated(rotatedName(path, n, false), false)
		if errors.Is(err, os.ErrNotExist) {
			f, err = openRotated(rotatedName(path, n, true), true)
		}
		if errors.Is(err, os.ErrNotExist) {
			gap = true
			continue
		}
		if err != nil {
			continue // not a log of ours (no gzip header): no rotation under way for it
		}
		if gap || seen[f.id] {
			consistent = false
		}
		if seen[f.id] {
			f.fh.Close()
			continue
		}
		seen[f.id] = true
		files = append(files, f)
	}
	slices.Reverse(files)
	return files, consistent, nil
}

func openRotated(name string, gz bool) (rotatedFile, error) {
	fh, err := os.Open(name)
	if err != nil {
		return rotatedFile{}, err
	}
	f := rotatedFile{name: name, fh: fh, gz: gz}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return rotatedFile{}, err
	}
	f.size = st.Size()
	if !gz {
		if f.id, err = identify(fh); err != nil {
			fh.Close()
			return rotatedFile{}, err
		}
		return f, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(io.NewSectionReader(fh, 0, f.size), 512))
	if err != nil {
		fh.Close()
		return rotatedFile{}, err
	}
	f.id, f.last, _ = gzipInfo(zr.Comment)
	return f, nil
}

func closeAll(files []rotatedFile) {
	for _, f := range files {
		f.fh.Close()
	}
}

// open returns the file's entries, decompressed, from the start.
func (f rotatedFile) open() (io.Reader, error) {
	r := io.NewSectionReader(f.fh, 0, f.size)
	if !f.gz {
		return r, nil
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("open rotated container log %s: %w", f.name, err)
	}
	return endAtError{zr}, nil
}

// endAtError ends a compressed file at its first damage (cut short, bad
// checksum): what it holds before is read, and the log goes on with the
// next file rather than end there.
type endAtError struct{ r io.Reader }

func (e endAtError) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = io.EOF
	}
	return n, err
}

// count returns how many entries the file holds.
func (f rotatedFile) count() (int, error) {
	r, err := f.open()
	if err != nil {
		return 0, err
	}
	n := 0
	buf := make([]byte, 32*1024)
	for {
		m, err := r.Read(buf)
		n += bytes.Count(buf[:m], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read rotated container log %s: %w", f.name, err)
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
	skip    int // entries to pass over first (--tail)
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
		if e.skip > 0 {
			e.skip--
			continue
		}
		m, ok := e.o.Format.decode(line)
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
