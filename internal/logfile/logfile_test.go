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

var t0 = time.Date(2026, 11, 27, 2, 31, 54, 123456789, time.UTC)

func TestWriterFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		stream, log string
		t           time.Time
		want        string
	}{
		{"stdout", "hello\n", t0, `{"log":"hello\n","stream":"stdout","time":"2026-11-27T02:31:54.123456789Z"}`},
		{"stderr", "a<b>&\"\t\n", t0.Add(-123456789), `{"log":"a\u003cb\u003e\u0026\"\t\n","stream":"stderr","time":"2026-11-27T02:31:54.000000000Z"}`},
		{"stdout", "bad\xff", t0.In(time.FixedZone("x", 3600)), `{"log":"bad\ufffd","stream":"stdout","time":"2026-11-27T02:31:54.123456789Z"}`},
	}
	for _, tt := range tests {
		if err := w.Write(tt.stream, []byte(tt.log), tt.t); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(tests) {
		t.Fatalf("got %d lines: %q", len(lines), data)
	}
	for i, tt := range tests {
		if lines[i] != tt.want {
			t.Errorf("line %d:\n got %s\nwant %s", i, lines[i], tt.want)
		}
	}
}

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", MaxLineSize+10)
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"lines", []string{"a\nb\n"}, []string{"a\n", "b\n"}},
		{"split across writes", []string{"he", "llo\nwor", "ld\n"}, []string{"hello\n", "world\n"}},
		{"partial flushed", []string{"prompt # "}, []string{"prompt # "}},
		{"long line", []string{long + "\n"}, []string{long[:MaxLineSize], long[MaxLineSize:] + "\n"}},
		{"exactly max", []string{long[:MaxLineSize]}, []string{long[:MaxLineSize]}},
		{"empty lines", []string{"\n\n"}, []string{"\n", "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.log")
			w, err := NewWriter(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			lw := NewLineWriter(w, "stdout")
			for _, s := range tt.writes {
				if _, err := lw.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			if err := lw.Flush(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			got := readAll(t, path, ReadOptions{Tail: -1})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d entries, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if string(got[i].Line) != tt.want[i] || got[i].Stream != "stdout" {
					t.Errorf("entry %d = %q (%s), want %q", i, got[i].Line, got[i].Stream, tt.want[i])
				}
			}
		})
	}
}

func readAll(t *testing.T, path string, o ReadOptions) []Message {
	t.Helper()
	msgs, errs := Read(context.Background(), path, o, nil)
	var got []Message
	for m := range msgs {
		got = append(got, m)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	return got
}

func writeN(t *testing.T, path string, n int) {
	t.Helper()
	w, err := NewWriter(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 0; i < n; i++ {
		if err := w.Write("stdout", []byte(fmt.Sprintf("line %d\n", i)), t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadFilters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	writeN(t, path, 5000) // several tail blocks
	tests := []struct {
		name        string
		o           ReadOptions
		first, last int
		count       int
	}{
		{"all", ReadOptions{Tail: -1}, 0, 4999, 5000},
		{"tail 3", ReadOptions{Tail: 3}, 4997, 4999, 3},
		{"tail 0", ReadOptions{Tail: 0}, 0, 0, 0},
		{"tail more than all", ReadOptions{Tail: 9000}, 0, 4999, 5000},
		{"tail 2000", ReadOptions{Tail: 2000}, 3000, 4999, 2000},
		{"since", ReadOptions{Tail: -1, Since: t0.Add(4998 * time.Second)}, 4998, 4999, 2},
		{"until", ReadOptions{Tail: -1, Until: t0.Add(1 * time.Second)}, 0, 1, 2},
		{"tail and since", ReadOptions{Tail: 10, Since: t0.Add(4995 * time.Second)}, 4995, 4999, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, path, tt.o)
			if len(got) != tt.count {
				t.Fatalf("got %d entries, want %d", len(got), tt.count)
			}
			if tt.count == 0 {
				return
			}
			if f := fmt.Sprintf("line %d\n", tt.first); string(got[0].Line) != f {
				t.Errorf("first = %q, want %q", got[0].Line, f)
			}
			if l := fmt.Sprintf("line %d\n", tt.last); string(got[len(got)-1].Line) != l {
				t.Errorf("last = %q, want %q", got[len(got)-1].Line, l)
			}
		})
	}
}

func TestReadMissing(t *testing.T) {
	if got := readAll(t, filepath.Join(t.TempDir(), "none.log"), ReadOptions{Tail: -1}); len(got) != 0 {
		t.Fatalf("got %d entries", len(got))
	}
}

func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	done := make(chan struct{})
	msgs, errs := Read(context.Background(), path, ReadOptions{Tail: -1, Follow: true}, done)
	w, err := NewWriter(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write("stderr", []byte("one\n"), t0); err != nil {
		t.Fatal(err)
	}
	m := <-msgs
	if string(m.Line) != "one\n" || m.Stream != "stderr" || !m.Time.Equal(t0) {
		t.Fatalf("got %+v", m)
	}
	// A half-written entry is held until it is complete.
	raw, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	raw.WriteString(`{"log":"two\n","stream":"stdout",`)
	time.Sleep(3 * pollInterval)
	raw.WriteString(`"time":"2026-11-27T02:31:55Z"}` + "\n")
	raw.Close()
	if m := <-msgs; string(m.Line) != "two\n" {
		t.Fatalf("got %+v", m)
	}
	w.Write("stdout", []byte("three\n"), t0)
	close(done)
	var rest []string
	for m := range msgs {
		rest = append(rest, string(m.Line))
	}
	if len(rest) != 1 || rest[0] != "three\n" {
		t.Fatalf("after done got %q", rest)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func TestFollowCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	writeN(t, path, 1)
	ctx, cancel := context.WithCancel(context.Background())
	msgs, errs := Read(ctx, path, ReadOptions{Tail: -1, Follow: true}, nil)
	<-msgs
	cancel()
	for range msgs {
	}
	if err := <-errs; err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}
