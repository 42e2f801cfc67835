package cli

import (
	"net/http"
	"strings"
	"testing"
)

// noSuchContainer answers like dockerd for an unknown container.
func noSuchContainer(w http.ResponseWriter, r *http.Request) {
	replyJSON(http.StatusNotFound, `{"message":"No such container: `+r.PathValue("id")+`"}`)(w, r)
}

// containerRoute replies 204 for known names and 404 otherwise.
func containerRoute(known ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, k := range known {
			if r.PathValue("id") == k {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		noSuchContainer(w, r)
	}
}

func TestStopKillRestart(t *testing.T) {
	e := newFakeEngine(t)
	e.handle("POST /containers/{id}/stop", containerRoute("a", "b"))
	e.handle("POST /containers/{id}/kill", containerRoute("a"))
	e.handle("POST /containers/{id}/restart", containerRoute("a"))

	out, errOut, code := e.run(t, "", "stop", "-t", "3", "-s", "SIGUSR1", "a", "missing", "b")
	if code != 1 || out != "a\nb\n" || errOut != "Error response from daemon: No such container: missing\n" {
		t.Errorf("stop: code=%d out=%q err=%q", code, out, errOut)
	}
	if c := e.callMatching("POST /containers/a/stop"); !strings.Contains(c, "t=3") || !strings.Contains(c, "signal=SIGUSR1") {
		t.Errorf("stop call = %q", c)
	}
	// Without -t the daemon applies the container's own timeout.
	if _, _, code := e.run(t, "", "stop", "b"); code != 0 {
		t.Errorf("stop b: code %d", code)
	}
	if c := e.calls(); !strings.HasSuffix(c[len(c)-1], "/stop?") {
		t.Errorf("stop without -t = %q", c[len(c)-1])
	}

	out, _, code = e.run(t, "", "kill", "-s", "HUP", "a")
	if code != 0 || out != "a\n" || !strings.Contains(e.callMatching("POST /containers/a/kill"), "signal=HUP") {
		t.Errorf("kill: code=%d out=%q calls=%v", code, out, e.calls())
	}
	out, _, code = e.run(t, "", "restart", "-t", "0", "a")
	if code != 0 || out != "a\n" || !strings.Contains(e.callMatching("POST /containers/a/restart"), "t=0") {
		t.Errorf("restart: code=%d out=%q", code, out)
	}
	_, errOut, code = e.run(t, "", "stop", "--time", "1", "--timeout", "2", "a")
	if code != 1 || errOut != "conflicting options: cannot specify both --timeout and --time\n" {
		t.Errorf("stop --time --timeout: code=%d err=%q", code, errOut)
	}
}

func TestRm(t *testing.T) {
	e := newFakeEngine(t)
	e.handle("DELETE /containers/{id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("id") {
		case "gone":
			w.WriteHeader(http.StatusNoContent)
		case "busy":
			replyJSON(http.StatusConflict, `{"message":"cannot remove container \"/busy\": container is running: stop the container before removing or force remove"}`)(w, r)
		default:
			noSuchContainer(w, r)
		}
	})
	out, errOut, code := e.run(t, "", "rm", "gone", "busy")
	if code != 1 || out != "gone\n" || !strings.HasPrefix(errOut, `Error response from daemon: cannot remove container "/busy": container is running`) {
		t.Errorf("rm: code=%d out=%q err=%q", code, out, errOut)
	}
	out, errOut, code = e.run(t, "", "rm", "-f", "-v", "missing", "gone")
	if code != 0 || out != "gone\n" || errOut != "Error response from daemon: No such container: missing\n" {
		t.Errorf("rm -f: code=%d out=%q err=%q", code, out, errOut)
	}
	if c := e.callMatching("DELETE /containers/gone?force=1"); c == "" || !strings.Contains(c, "v=1") {
		t.Errorf("rm -f -v calls = %v", e.calls())
	}
}

func TestWaitAndRename(t *testing.T) {
	e := newFakeEngine(t)
	e.handle("POST /containers/{id}/wait", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			noSuchContainer(w, r)
			return
		}
		replyJSON(http.StatusOK, `{"StatusCode":`+map[string]string{"a": "0", "b": "42"}[r.PathValue("id")]+`}`)(w, r)
	})
	e.handle("POST /containers/{id}/rename", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("name") == "taken" {
			replyJSON(http.StatusConflict, `{"message":"Conflict. The container name \"/taken\" is already in use by container \"abc\". You have to remove (or rename) that container to be able to reuse that name."}`)(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	out, errOut, code := e.run(t, "", "wait", "a", "missing", "b")
	if code != 1 || out != "0\n42\n" || errOut != "Error response from daemon: No such container: missing\n" {
		t.Errorf("wait: code=%d out=%q err=%q", code, out, errOut)
	}
	out, errOut, code = e.run(t, "", "rename", "a", "new")
	if code != 0 || out != "" || errOut != "" || e.callMatching("POST /containers/a/rename?name=new") == "" {
		t.Errorf("rename: code=%d out=%q err=%q", code, out, errOut)
	}
	_, errOut, code = e.run(t, "", "rename", "a", "taken")
	if code != 1 || !strings.HasPrefix(errOut, "Error response from daemon: Conflict.") || !strings.HasSuffix(errOut, "\nError: failed to rename container named a\n") {
		t.Errorf("rename taken: code=%d err=%q", code, errOut)
	}
}
