package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
)

// fakeEngine is a small Engine API on a unix socket for the container
// commands: handlers use Go's path patterns ("POST /containers/{id}/start")
// without the /v1.xx prefix, answer with real JSON shapes, and may hijack
// the connection for attach.
type fakeEngine struct {
	host string
	mux  *http.ServeMux

	mu       sync.Mutex
	requests []string // "METHOD /path?query"
	bodies   map[string][]byte
}

func newFakeEngine(t *testing.T) *fakeEngine {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	e := &fakeEngine{host: "unix://" + sock, mux: http.NewServeMux(), bodies: map[string][]byte{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = versionPrefix.ReplaceAllString(r.URL.Path, "")
		if r.URL.Path == "/_ping" {
			w.Header().Set("API-Version", "1.50")
			_, _ = io.WriteString(w, "OK")
			return
		}
		body, _ := io.ReadAll(r.Body)
		key := r.Method + " " + r.URL.Path
		e.mu.Lock()
		e.requests = append(e.requests, key+"?"+r.URL.RawQuery)
		e.bodies[key] = body
		e.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		if _, pattern := e.mux.Handler(r); pattern == "" {
			replyJSON(http.StatusNotFound, `{"message":"page not found"}`)(w, r)
			return
		}
		e.mux.ServeHTTP(w, r)
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

func (e *fakeEngine) handle(pattern string, h http.HandlerFunc) { e.mux.HandleFunc(pattern, h) }

func (e *fakeEngine) run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := Execute(ctx, append([]string{"-H", e.host}, args...), io.NopCloser(strings.NewReader(stdin)), &out, &errb)
	return out.String(), errb.String(), code
}

// calls returns the requests made so far, each "METHOD /path?query".
func (e *fakeEngine) calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.requests...)
}

func (e *fakeEngine) body(key string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.bodies[key]
}

// callMatching returns the first request starting with prefix.
func (e *fakeEngine) callMatching(prefix string) string {
	for _, c := range e.calls() {
		if strings.HasPrefix(c, prefix) {
			return c
		}
	}
	return ""
}

const testID = "4d2f9a5e1c7b3a8f6e0d2c4b6a8f0e2d4c6b8a0f2e4d6c8b0a2f4e6d8c0b2a4f"

// lifecycle wires create, start, attach and wait like a container that
// writes stdout/stderr (after start, reading stdin first when echo is set)
// and exits with code.
type lifecycle struct {
	stdout, stderr string
	echo           bool // copy stdin to stdout before exiting
	code           int
	startErr       string // start fails with this message (500)
	started        chan struct{}
	once           sync.Once
}

func (l *lifecycle) install(e *fakeEngine) {
	l.started = make(chan struct{})
	e.handle("POST /containers/create", replyJSON(http.StatusCreated, `{"Id":"`+testID+`","Warnings":[]}`))
	e.handle("POST /containers/{id}/start", func(w http.ResponseWriter, r *http.Request) {
		if l.startErr != "" {
			replyJSON(http.StatusBadRequest, `{"message":`+quoteJSON(l.startErr)+`}`)(w, r)
			return
		}
		l.once.Do(func() { close(l.started) })
		w.WriteHeader(http.StatusNoContent)
	})
	e.handle("POST /containers/{id}/wait", func(w http.ResponseWriter, r *http.Request) {
		// Headers go out at once, the status when the container exits: the
		// client registers its wait before starting the container.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-l.started:
		case <-r.Context().Done():
			return
		}
		time.Sleep(20 * time.Millisecond)
		fmt.Fprintf(w, `{"StatusCode":%d}`, l.code)
	})
	e.handle("POST /containers/{id}/attach", hijack(func(conn net.Conn) {
		var in []byte
		if l.echo {
			in, _ = io.ReadAll(conn)
		}
		<-l.started
		if l.stdout != "" || len(in) > 0 {
			writeFrame(conn, stdcopy.Stdout, append([]byte(l.stdout), in...))
		}
		if l.stderr != "" {
			writeFrame(conn, stdcopy.Stderr, []byte(l.stderr))
		}
	}))
}

// hijack upgrades the connection like dockerd's attach and runs serve on it,
// closing the connection afterwards.
func hijack(serve func(conn net.Conn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(conn, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		serve(conn)
	}
}

// writeFrame writes one stdcopy frame: stream byte, three zero bytes, the
// big-endian payload length, the payload.
func writeFrame(w io.Writer, stream stdcopy.StdType, p []byte) {
	hdr := make([]byte, 8)
	hdr[0] = byte(stream)
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	_, _ = w.Write(append(hdr, p...))
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestRunDetachedPrintsID(t *testing.T) {
	e := newFakeEngine(t)
	(&lifecycle{}).install(e)
	out, errOut, code := e.run(t, "", "run", "-d", "--rm", "--name", "web", "busybox", "sleep", "100")
	if code != 0 || out != testID+"\n" || errOut != "" {
		t.Fatalf("code=%d out=%q err=%q", code, out, errOut)
	}
	if c := e.callMatching("POST /containers/create"); !strings.Contains(c, "name=web") {
		t.Errorf("create call = %q", c)
	}
	if e.callMatching("POST /containers/"+testID+"/attach") != "" {
		t.Error("run -d attached")
	}
	var req container.CreateRequest
	if err := json.Unmarshal(e.body("POST /containers/create"), &req); err != nil {
		t.Fatal(err)
	}
	if req.Image != "busybox" || strings.Join(req.Cmd, " ") != "sleep 100" || req.AttachStdout || !req.HostConfig.AutoRemove {
		t.Errorf("create request = %+v %+v", req.Config, req.HostConfig)
	}
	// --rm waits for the removal, not the exit.
	if c := e.callMatching("POST /containers/" + testID + "/wait"); !strings.Contains(c, "condition=removed") {
		t.Errorf("wait call = %q", c)
	}
}

func TestRunAttachedDemuxesAndExits(t *testing.T) {
	e := newFakeEngine(t)
	(&lifecycle{stdout: "hello\n", stderr: "oops\n", code: 3}).install(e)
	out, errOut, code := e.run(t, "", "run", "busybox", "sh", "-c", "echo hello; echo oops >&2; exit 3")
	if code != 3 || out != "hello\n" || errOut != "oops\n" {
		t.Fatalf("code=%d out=%q err=%q", code, out, errOut)
	}
	attach := e.callMatching("POST /containers/" + testID + "/attach")
	if !strings.Contains(attach, "stdout=1") || !strings.Contains(attach, "stderr=1") || strings.Contains(attach, "stdin=1") {
		t.Errorf("attach call = %q", attach)
	}
	if c := e.callMatching("POST /containers/" + testID + "/wait"); !strings.Contains(c, "condition=next-exit") {
		t.Errorf("wait call = %q", c)
	}
}

func TestRunInteractiveStdinAndDetachKeys(t *testing.T) {
	e := newFakeEngine(t)
	(&lifecycle{echo: true}).install(e)
	out, errOut, code := e.run(t, "some input\n", "run", "-i", "--detach-keys", "ctrl-x,x", "busybox", "cat")
	if code != 0 || out != "some input\n" || errOut != "" {
		t.Fatalf("code=%d out=%q err=%q", code, out, errOut)
	}
	attach := e.callMatching("POST /containers/" + testID + "/attach")
	if !strings.Contains(attach, "stdin=1") || !strings.Contains(attach, "detachKeys=ctrl-x%2Cx") {
		t.Errorf("attach call = %q", attach)
	}
}

func TestRunTTYNeedsTerminal(t *testing.T) {
	e := newFakeEngine(t)
	(&lifecycle{}).install(e)
	_, errOut, code := e.run(t, "", "run", "-it", "busybox", "sh")
	if code != 1 || errOut != "the input device is not a TTY\n" {
		t.Fatalf("code=%d err=%q", code, errOut)
	}
	if len(e.calls()) != 0 {
		t.Errorf("calls made: %v", e.calls())
	}
}

func TestRunStartFailureExitCodes(t *testing.T) {
	tests := []struct {
		msg  string
		code int
	}{
		{`failed to create task: exec: "nope": executable file not found in $PATH`, 127},
		{`exec: "/etc": permission denied`, 126},
		{`cgroup setup failed`, 125},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			e := newFakeEngine(t)
			(&lifecycle{startErr: tt.msg}).install(e)
			_, errOut, code := e.run(t, "", "run", "busybox", "nope")
			want := "berth: Error response from daemon: " + tt.msg + "\n\nRun 'berth run --help' for more information\n"
			if code != tt.code || errOut != want {
				t.Errorf("code=%d err=%q, want %d %q", code, errOut, tt.code, want)
			}
		})
	}
}

func TestRunUnknownImage(t *testing.T) {
	e := newFakeEngine(t)
	e.handle("POST /containers/create", replyJSON(http.StatusNotFound, `{"message":"No such image: nope:latest"}`))
	e.handle("POST /images/create", replyJSON(http.StatusNotFound, `{"message":"pull access denied for nope, repository does not exist or may require 'docker login'"}`))
	_, errOut, code := e.run(t, "", "run", "nope")
	want := "Unable to find image 'nope:latest' locally\nberth: Error response from daemon: pull access denied for nope, repository does not exist or may require 'docker login'\n\nRun 'berth run --help' for more information\n"
	if code != 125 || errOut != want {
		t.Errorf("code=%d err=%q", code, errOut)
	}
	_, errOut, code = e.run(t, "", "create", "nope")
	if code != 1 || errOut != "Unable to find image 'nope:latest' locally\nError response from daemon: pull access denied for nope, repository does not exist or may require 'docker login'\n" {
		t.Errorf("create: code=%d err=%q", code, errOut)
	}
	_, errOut, code = e.run(t, "", "create", "--pull", "never", "nope")
	if code != 1 || errOut != "Error response from daemon: No such image: nope:latest\n" {
		t.Errorf("create --pull never: code=%d err=%q", code, errOut)
	}
}

func TestRunDaemonDetach(t *testing.T) {
	e := newFakeEngine(t)
	started := make(chan struct{})
	e.handle("POST /containers/create", replyJSON(http.StatusCreated, `{"Id":"`+testID+`","Warnings":[]}`))
	e.handle("POST /containers/{id}/start", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		w.WriteHeader(http.StatusNoContent)
	})
	e.handle("POST /containers/{id}/wait", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the container never exits
	})
	// The daemon sees the detach keys: it ends the stream, the container runs on.
	e.handle("POST /containers/{id}/attach", hijack(func(conn net.Conn) {
		<-started
		writeFrame(conn, stdcopy.Stdout, []byte("prompt\n"))
		buf := make([]byte, 64)
		var in []byte
		for !bytes.Contains(in, []byte{24, 'x'}) {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			in = append(in, buf[:n]...)
		}
	}))
	out, errOut, code := e.run(t, "ls\n\x18x", "run", "-i", "--detach-keys", "ctrl-x,x", "busybox", "sh")
	if code != 0 || out != "prompt\n" || errOut != "" {
		t.Fatalf("code=%d out=%q err=%q", code, out, errOut)
	}
}

func TestCreatePrintsIDAndWarnings(t *testing.T) {
	e := newFakeEngine(t)
	e.handle("POST /containers/create", replyJSON(http.StatusCreated, `{"Id":"`+testID+`","Warnings":["memory limit ignored"]}`))
	cidfile := filepath.Join(t.TempDir(), "cid")
	out, errOut, code := e.run(t, "", "create", "--cidfile", cidfile, "-e", "A=1", "busybox")
	if code != 0 || out != testID+"\n" || errOut != "WARNING: memory limit ignored\n" {
		t.Fatalf("code=%d out=%q err=%q", code, out, errOut)
	}
	var req container.CreateRequest
	if err := json.Unmarshal(e.body("POST /containers/create"), &req); err != nil {
		t.Fatal(err)
	}
	if strings.Join(req.Env, ",") != "A=1" {
		t.Errorf("env = %q", req.Env)
	}
}
