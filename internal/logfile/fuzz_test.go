package logfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzRead reads a container log whose current file and two rotated ones
// (the older compressed) hold whatever the fuzzer writes, in both formats,
// with --tail, --since and --until: every read ends, without a panic, and
// every message it returns is within the bounds asked for.
func FuzzRead(f *testing.F) {
	t0 := time.Unix(1700000000, 0).UTC()
	var good []byte
	for i, s := range []string{"stdout", "stderr"} {
		good = appendEntry(good, s, []byte("line\n"), t0.Add(time.Duration(i)*time.Second), nil)
	}
	local := appendLocal(appendLocal(nil, "stdout", []byte("a\\b\nc"), t0), "stderr", []byte("x\n"), t0.Add(time.Second))
	f.Add(good, good, good, false, 1, int64(0), int64(0))
	f.Add(good, []byte(`{"log":"partial","stream":"stdout","time":"2023-11-14T22:13:20Z"}`), []byte{}, false, -1, t0.UnixNano(), int64(0))
	f.Add(local, local, local, true, 2, int64(0), t0.UnixNano())
	f.Add([]byte("{\n\n}\n"), []byte("o1 x\ne-5 y\nq\n"), []byte("\x1f\x8b garbage"), true, 100, int64(1), int64(-1))
	f.Add([]byte(`{"log":"\ud800","stream":"x","time":"9999-99-99","attrs":{"a":1}}`+"\n"), []byte{'\n'}, []byte{}, false, 0, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, cur, older, oldest []byte, localFormat bool, tail int, since, until int64) {
		dir := t.TempDir()
		path := filepath.Join(dir, "c-json.log")
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(oldest)
		_ = zw.Close()
		for name, data := range map[string][]byte{path: cur, path + ".1": older, path + ".2.gz": gz.Bytes()} {
			if err := os.WriteFile(name, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		o := ReadOptions{Tail: tail}
		if localFormat {
			o.Format = Local
		}
		if since != 0 {
			o.Since = time.Unix(0, since)
		}
		if until != 0 {
			o.Until = time.Unix(0, until)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		msgs, errs := Read(ctx, path, o, nil)
		n := 0
		for m := range msgs {
			n++
			if !o.Since.IsZero() && m.Time.Before(o.Since) || !o.Until.IsZero() && m.Time.After(o.Until) {
				t.Fatalf("message at %v outside [%v, %v]", m.Time, o.Since, o.Until)
			}
		}
		if tail >= 0 && n > tail {
			t.Fatalf("--tail %d returned %d messages", tail, n)
		}
		if err := <-errs; ctx.Err() != nil {
			t.Fatalf("the read did not end: %v", err)
		}
	})
}
