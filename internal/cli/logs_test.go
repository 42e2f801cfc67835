package cli

import (
	"net/http"
	"strings"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
)

func TestLogs(t *testing.T) {
	e := newFakeEngine(t)
	e.handle("GET /containers/{id}/json", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			noSuchContainer(w, r)
			return
		}
		tty := r.PathValue("id") == "tty"
		replyJSON(http.StatusOK, `{"Id":"`+r.PathValue("id")+`-id","State":{"Status":"exited"},"Config":{"Tty":`+map[bool]string{true: "true", false: "false"}[tty]+`}}`)(w, r)
	})
	e.handle("GET /containers/{id}/logs", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		if r.PathValue("id") == "tty-id" {
			_, _ = w.Write([]byte("raw\r\n"))
			return
		}
		writeFrame(w, stdcopy.Stdout, []byte("one\n"))
		writeFrame(w, stdcopy.Stderr, []byte("two\n"))
	})
	out, errOut, code := e.run(t, "", "logs", "-t", "--tail", "5", "--since", "1700000000", "-f", "plain")
	if code != 0 || out != "one\n" || errOut != "two\n" {
		t.Errorf("logs: code=%d out=%q err=%q", code, out, errOut)
	}
	c := e.callMatching("GET /containers/plain-id/logs")
	for _, q := range []string{"stdout=1", "stderr=1", "timestamps=1", "tail=5", "follow=1", "since=1700000000"} {
		if !strings.Contains(c, q) {
			t.Errorf("logs call %q lacks %s", c, q)
		}
	}
	out, errOut, code = e.run(t, "", "logs", "tty")
	if code != 0 || out != "raw\r\n" || errOut != "" {
		t.Errorf("logs tty: code=%d out=%q err=%q", code, out, errOut)
	}
	_, errOut, code = e.run(t, "", "logs", "missing")
	if code != 1 || errOut != "Error response from daemon: No such container: missing\n" {
		t.Errorf("logs missing: code=%d err=%q", code, errOut)
	}
}
