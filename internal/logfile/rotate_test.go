package logfile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeRotating(t *testing.T, path string, o Options, from, n int) {
	t.Helper()
	w, err := NewWriter(path, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		if err := w.Write("stdout", []byte(fmt.Sprintf("line %d\n", i)), t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// lines checks that msgs are "line first" .. "line last", in order.
func checkLines(t *testing.T, msgs []Message, first, last int) {
	t.Helper()
	if len(msgs) != last-first+1 {
		t.Fatalf("got %d entries, want %d (%d..%d)", len(msgs), last-first+1, first, last)
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("line %d\n", first+i); string(m.Line) != want {
			t.Fatalf("entry %d = %q, want %q", i, m.Line, want)
		}
	}
}

func TestRotation(t *testing.T) {
	for _, format := range []Format{JSON, Local} {
		for _, compress := range []bool{false, true} {
			t.Run(fmt.Sprintf("format%d/compress=%v", format, compress), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "c.log")
				o := Options{Format: format, MaxSize: 4096, MaxFiles: 3, Compress: compress}
				writeRotating(t, path, o, 0, 5000)
				ents, _ := os.ReadDir(dir)
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
					info, _ := e.Info()
					if !strings.HasSuffix(e.Name(), ".gz") && info.Size() > o.MaxSize {
						t.Errorf("%s has %d bytes, over max-size %d", e.Name(), info.Size(), o.MaxSize)
					}
				}
				want := []string{"c.log", "c.log.1", "c.log.2"}
				if compress {
					want = []string{"c.log", "c.log.1.gz", "c.log.2.gz"}
				}
				if strings.Join(names, " ") != strings.Join(want, " ") {
					t.Fatalf("files %v, want %v", names, want)
				}
				all := readAll(t, path, ReadOptions{Format: format, Tail: -1})
				if len(all) == 0 || len(all) >= 5000 {
					t.Fatalf("kept %d entries of 5000", len(all))
				}
				first := 5000 - len(all)
				checkLines(t, all, first, 4999)
				// --tail reaching into the rotated files
				checkLines(t, readAll(t, path, ReadOptions{Format: format, Tail: len(all) - 5}), first+5, 4999)
				// --since skipping files, --until stopping early
				checkLines(t, readAll(t, path, ReadOptions{Format: format, Tail: -1, Since: t0.Add(time.Duration(first+3) * time.Second)}), first+3, 4999)
				checkLines(t, readAll(t, path, ReadOptions{Format: format, Tail: -1, Until: t0.Add(time.Duration(first+3) * time.Second)}), first, first+3)
			})
		}
	}
}

func TestMaxFileOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.log")
	writeRotating(t, path, Options{MaxSize: 1000, MaxFiles: 1}, 0, 100)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("%d files", len(ents))
	}
	all := readAll(t, path, ReadOptions{Tail: -1})
	checkLines(t, all, 100-len(all), 99)
}

// A follower reads every entry once, in order, however many rotations
// (compressed or not) happen while it reads, and whether it keeps up.
func TestFollowRotation(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.log")
			writeRotating(t, path, Options{}, 0, 10)
			done := make(chan struct{})
			msgs, errs := Read(context.Background(), path, ReadOptions{Tail: 5, Follow: true}, done)
			w, err := NewWriter(path, Options{MaxSize: 2000, MaxFiles: 50, Compress: compress})
			if err != nil {
				t.Fatal(err)
			}
			const total = 3000
			first := <-msgs // the tail is read: what follows is followed
			go func() {
				for i := 10; i < total; i++ {
					_ = w.Write("stdout", []byte(fmt.Sprintf("line %d\n", i)), t0)
					if i%100 == 0 {
						time.Sleep(15 * time.Millisecond)
					}
				}
				w.Close()
				close(done)
			}()
			got := []Message{first}
			for m := range msgs {
				got = append(got, m)
			}
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			checkLines(t, got, 5, total-1)
		})
	}
}

func TestLocalFormat(t *testing.T) {
	for _, p := range []string{"hello\n", "back\\slash\\n\n", "partial", "", "\n", "tab\tand \x00 bytes\xff\n"} {
		b := appendLocal(nil, "stderr", []byte(p), t0)
		if strings.Count(string(b), "\n") != 1 {
			t.Fatalf("%q encoded on more than one line: %q", p, b)
		}
		m, ok := decodeLocal(b)
		if !ok || string(m.Line) != p || m.Stream != "stderr" || !m.Time.Equal(t0) {
			t.Fatalf("%q: decoded %+v %v", p, m, ok)
		}
	}
	if _, ok := decodeLocal([]byte("x12 hi\n")); ok {
		t.Fatal("decoded a damaged entry")
	}
}

func TestAttrs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path, Options{Attrs: []byte(`{"app":"web","env":"a b"}`)})
	if err != nil {
		t.Fatal(err)
	}
	w.Write("stdout", []byte("x\n"), t0)
	w.Close()
	data, _ := os.ReadFile(path)
	if want := `{"log":"x\n","stream":"stdout","attrs":{"app":"web","env":"a b"},"time":"2026-11-27T02:31:54.123456789Z"}` + "\n"; string(data) != want {
		t.Fatalf("got %s", data)
	}
	got := readAll(t, path, ReadOptions{Tail: -1})
	if len(got) != 1 || got[0].Attrs["app"] != "web" || got[0].Attrs["env"] != "a b" {
		t.Fatalf("got %+v", got)
	}
}

// TestDamagedRotated: a rotated file cut short (a truncated .gz) or not a
// gzip at all does not end the reading: what it holds intact is read, and
// so are the other files.
func TestDamagedRotated(t *testing.T) {
	for _, tail := range []int{-1, 120} {
		t.Run(fmt.Sprintf("tail=%d", tail), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.log")
			o := Options{MaxSize: 4096, MaxFiles: 4, Compress: true}
			writeRotating(t, path, o, 0, 500)
			gz := rotatedName(path, 2, true)
			data, err := os.ReadFile(gz)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(gz, data[:len(data)/2], 0o640); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(rotatedName(path, 3, true), []byte("not gzip\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			msgs := readAll(t, path, ReadOptions{Tail: tail})
			if len(msgs) == 0 {
				t.Fatal("no entries")
			}
			last := msgs[len(msgs)-1]
			if string(last.Line) != "line 499\n" {
				t.Fatalf("last entry %q, want line 499", last.Line)
			}
		})
	}
}
