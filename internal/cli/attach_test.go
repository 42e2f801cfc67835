package cli

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
)

func TestAttach(t *testing.T) {
	e := newFakeEngine(t)
	state := `{"Status":"running","Running":true}`
	e.handle("GET /containers/{id}/json", func(w http.ResponseWriter, r *http.Request) {
		replyJSON(http.StatusOK, `{"Id":"`+testID+`","State":`+state+`,"Config":{"OpenStdin":true}}`)(w, r)
	})
	exited := make(chan struct{})
	e.handle("POST /containers/{id}/wait", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-exited
		_, _ = w.Write([]byte(`{"StatusCode":5}`))
	})
	e.handle("POST /containers/{id}/attach", hijack(func(conn net.Conn) {
		buf := make([]byte, 3)
		_, _ = conn.Read(buf)
		writeFrame(conn, stdcopy.Stdout, buf)
		close(exited)
	}))
	out, errOut, code := e.run(t, "abc", "attach", "--detach-keys", "ctrl-a", "web")
	if code != 5 || out != "abc" || errOut != "" {
		t.Fatalf("attach: code=%d out=%q err=%q", code, out, errOut)
	}
	c := e.callMatching("POST /containers/web/attach")
	for _, q := range []string{"stdin=1", "stdout=1", "stderr=1", "stream=1", "detachKeys=ctrl-a"} {
		if !strings.Contains(c, q) {
			t.Errorf("attach call %q lacks %s", c, q)
		}
	}

	state = `{"Status":"exited","Running":false}`
	_, errOut, code = e.run(t, "", "attach", "web")
	if code != 1 || errOut != "You cannot attach to a stopped container, start it first\n" {
		t.Errorf("attach stopped: code=%d err=%q", code, errOut)
	}
}

func TestKeyWatcher(t *testing.T) {
	tests := []struct {
		keys   string
		chunks []string
		seen   bool
	}{
		{"", []string{"abc\x10\x11"}, true},
		{"", []string{"abc\x10", "\x11"}, true},
		{"", []string{"\x10\x10\x11"}, true},
		{"", []string{"\x10a\x11"}, false},
		{"ctrl-x,x", []string{"ls\n", "\x18", "x"}, true},
		{"ctrl-x,x", []string{"\x10\x11"}, false},
		{"not a key", []string{"\x10\x11"}, true}, // invalid keys fall back to Ctrl-P Ctrl-Q
	}
	for _, tt := range tests {
		w := &keyWatcher{r: strings.NewReader(strings.Join(tt.chunks, "")), keys: detachKeyBytes(tt.keys)}
		// Feed the chunks one read at a time.
		for _, c := range tt.chunks {
			w.r = strings.NewReader(c)
			buf := make([]byte, 64)
			n, _ := w.Read(buf)
			if string(buf[:n]) != c {
				t.Errorf("watcher changed the input: %q -> %q", c, buf[:n])
			}
		}
		if w.seen.Load() != tt.seen {
			t.Errorf("keys %q input %q: seen = %v, want %v", tt.keys, tt.chunks, w.seen.Load(), tt.seen)
		}
	}
}
