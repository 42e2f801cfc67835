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
