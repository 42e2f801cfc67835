package api

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

var _ Backend = (*fakeBackend)(nil)

// testEnv is a Server over a fakeBackend, listening on a unix socket.
type testEnv struct {
	fake   *fakeBackend
	server *Server
	sock   string
	client *client.Client
	logs   *logRecorder
}

// logRecorder collects the server's log lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, format)
	_ = args
}

func (l *logRecorder) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// newTestEnv serves a fresh fake on a unix socket (in a short folder: the
// socket path limit is 108 bytes) and returns a negotiating moby client.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	dir, err := os.MkdirTemp("", "berth-api")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	env := serveTestEnv(t, l, "unix://"+sock)
	env.sock = sock
	return env
}

// serveTestEnv serves a fresh fake on l until t ends and returns it with
// a moby client for host.
func serveTestEnv(t *testing.T, l net.Listener, host string) *testEnv {
	t.Helper()
	env := &testEnv{fake: newFakeBackend(), logs: &logRecorder{}}
	env.server = New(env.fake, Options{Version: "1.56", MinVersion: "1.24", Logf: env.logs.logf})
	served := make(chan error, 1)
	go func() { served <- env.server.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := env.server.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
	})
	var err error
	env.client, err = client.New(client.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.client.Close() })
	return env
}

// attachRunning starts a non-TTY container "s" and attaches to its stdout.
func attachRunning(t *testing.T, env *testEnv) client.HijackedResponse {
	t.Helper()
	ctx := testCtx(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "s", "busybox", []string{"sleep"}, false)
	if _, err := env.client.ContainerStart(ctx, "s", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	att, err := env.client.ContainerAttach(ctx, "s", client.ContainerAttachOptions{Stream: true, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(att.Close)
	return att.HijackedResponse
}

// httpClient returns a plain HTTP client dialling the socket, for requests
// the moby client cannot make.
func (e *testEnv) httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", e.sock)
		},
	}}
}

// do sends a raw request and returns the response (body left open).
func (e *testEnv) do(t *testing.T, method, path, contentType string, body []byte) *http.Response {
	t.Helper()
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(method, "http://docker"+path, bytesReader(body))
	} else {
		req, err = http.NewRequest(method, "http://docker"+path, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.httpClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// ctx returns a context bounded so a hung test fails instead of hanging.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func bytesReader(b []byte) *bytesBody { return &bytesBody{b: b} }

// bytesBody is an io.Reader over b (a named type so requests get no
// automatic Content-Length, like streamed uploads).
type bytesBody struct{ b []byte }

func (r *bytesBody) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
