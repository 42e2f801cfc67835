package cli

import (
	"net/http"
	"testing"
)

func TestStartPrintsNames(t *testing.T) {
	e := newFakeEngine(t)
	e.handle("POST /containers/{id}/start", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "a", "b":
			w.WriteHeader(http.StatusNoContent)
		case "running":
			w.WriteHeader(http.StatusNotModified)
		default:
			noSuchContainer(w, r)
		}
	})
	out, errOut, code := e.run(t, "", "start", "a", "running", "b")
	if code != 0 || out != "a\nrunning\nb\n" || errOut != "" {
		t.Errorf("start: code=%d out=%q err=%q", code, out, errOut)
	}
	out, errOut, code = e.run(t, "", "start", "a", "x", "y")
	want := "Error response from daemon: No such container: x\nError response from daemon: No such container: y\nError: failed to start containers: x, y\n"
	if code != 1 || out != "a\n" || errOut != want {
		t.Errorf("start missing: code=%d out=%q err=%q", code, out, errOut)
	}
	_, errOut, code = e.run(t, "", "start", "-a", "a", "b")
	if code != 1 || errOut != "you cannot start and attach multiple containers at once\n" {
		t.Errorf("start -a a b: code=%d err=%q", code, errOut)
	}
}

func TestStartAttached(t *testing.T) {
	e := newFakeEngine(t)
	l := &lifecycle{stdout: "out\n", stderr: "err\n", code: 7}
	l.install(e)
	e.handle("GET /containers/{id}/json", replyJSON(http.StatusOK, `{"Id":"`+testID+`","State":{"Status":"created"},"Config":{"Tty":false,"OpenStdin":false},"HostConfig":{}}`))
	out, errOut, code := e.run(t, "", "start", "-a", "web")
	if code != 7 || out != "out\n" || errOut != "err\n" {
		t.Errorf("start -a: code=%d out=%q err=%q", code, out, errOut)
	}
}
