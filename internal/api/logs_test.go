package api

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// appendLog adds a line to a container's log, as its process would.
func (f *fakeBackend) appendLog(name, stream, line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		panic(err)
	}
	c.logLocked(stream, line)
	f.notifyLocked()
}

func TestLogsFraming(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "e", "busybox", []string{"echo", "hello", "world"}, false)
	if _, err := env.client.ContainerStart(ctx, "e", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	env.fake.appendLog("e", "stderr", "oops\n")

	rc, err := env.client.ContainerLogs(ctx, "e", client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if stdout.String() != "hello world\n" || stderr.String() != "oops\n" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}

	// Only stderr, with timestamps.
	rc, err = env.client.ContainerLogs(ctx, "e", client.ContainerLogsOptions{ShowStderr: true, Timestamps: true})
	if err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if _, err := stdcopy.StdCopy(&stdout, &stderr, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	ts, line, _ := strings.Cut(stderr.String(), " ")
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || line != "oops\n" || stdout.Len() != 0 {
		t.Errorf("timestamped stderr %q (%v), stdout %q", stderr.String(), err, stdout.String())
	}

	resp := env.do(t, http.MethodGet, "/containers/e/logs?stdout=1", "", nil)
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.docker.multiplexed-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	raw, _ := io.ReadAll(resp.Body)
	if want := "\x01\x00\x00\x00\x00\x00\x00\x0chello world\n"; string(raw) != want {
		t.Errorf("frame %q, want %q", raw, want)
	}
	// Before API 1.42 dockerd labelled framed output as raw.
	resp = env.do(t, http.MethodGet, "/v1.41/containers/e/logs?stdout=1", "", nil)
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.docker.raw-stream" {
		t.Errorf("1.41 Content-Type %q", ct)
	}
}

func TestLogsTTYIsRaw(t *testing.T) {
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "tty", "busybox", []string{"echo", "hi"}, true)
	if _, err := env.client.ContainerStart(testCtx(t), "tty", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	resp := env.do(t, http.MethodGet, "/containers/tty/logs?stdout=1&stderr=1", "", nil)
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.docker.raw-stream" || string(raw) != "hi\n" {
		t.Errorf("tty logs: %q %q", ct, raw)
	}
}

func TestLogsParameters(t *testing.T) {
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "p", "busybox", []string{"echo", "x"}, true)
	if _, err := env.client.ContainerStart(testCtx(t), "p", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	tests := []struct {
		query  string
		status int
		body   string
	}{
		{"", 400, ""},
		{"stdout=0&stderr=no", 400, ""},
		{"stdout=1&since=yesterday", 400, ""},
		{"stdout=1&until=1.x", 400, ""},
		{"stdout=1&since=1700000000.000000001", 200, "x\n"},
		{"stdout=1&since=1700000000", 200, "x\n"},
		{"stdout=1&since=" + future.Format(time.RFC3339), 200, ""},
		{"stdout=1&until=1700000000.5", 200, ""},
		{"stdout=1&tail=0", 200, ""},
		{"stdout=1&tail=all", 200, "x\n"},
	}
	for _, tt := range tests {
		resp := env.do(t, http.MethodGet, "/containers/p/logs?"+tt.query, "", nil)
		if resp.StatusCode != tt.status {
			t.Errorf("%q: status %d, want %d", tt.query, resp.StatusCode, tt.status)
			continue
		}
		if tt.status != 200 {
			msg := errorMessage(t, resp)
			if tt.query == "" && msg != "Bad parameters: you must choose at least one stream" {
				t.Errorf("no stream: %q", msg)
			}
			continue
		}
		if raw, _ := io.ReadAll(resp.Body); string(raw) != tt.body {
			t.Errorf("%q: body %q, want %q", tt.query, raw, tt.body)
		}
	}
	if resp := env.do(t, http.MethodGet, "/containers/nope/logs?stdout=1", "", nil); resp.StatusCode != 404 {
		t.Errorf("missing container: %d", resp.StatusCode)
	}
}

func TestParseLogTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"1700000000", time.Unix(1700000000, 0), false},
		{"1700000000.000000001", time.Unix(1700000000, 1), false},
		{"1700000000.5", time.Unix(1700000000, 500000000), false},
		{"2023-11-14T22:13:20Z", time.Unix(1700000000, 0), false},
		{"2023-11-14T22:13:20.25+00:00", time.Unix(1700000000, 250000000), false},
		{"x", time.Time{}, true},
		{"1.", time.Time{}, true},
		{"1.1234567890", time.Time{}, true},
		{"1.-5", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseLogTime(tt.in)
		if (err != nil) != tt.bad || !got.Equal(tt.want) {
			t.Errorf("parseLogTime(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestLogsFollow(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "f", "busybox", []string{"sleep"}, true)
	if _, err := env.client.ContainerStart(ctx, "f", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	env.fake.appendLog("f", "stdout", "one\n")
	rc, err := env.client.ContainerLogs(ctx, "f", client.ContainerLogsOptions{ShowStdout: true, Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	// Each line arrives as it is logged: the server flushes every message.
	for _, want := range []string{"one\n", "two\n", "three\n"} {
		if want != "one\n" {
			env.fake.appendLog("f", "stdout", want)
		}
		line, err := br.ReadString('\n')
		if err != nil || line != want {
			t.Fatalf("read %q, %v; want %q", line, err, want)
		}
	}
	if _, err := env.client.ContainerStop(ctx, "f", client.ContainerStopOptions{}); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after stop: %q %v", rest, err)
	}
}

// TestLogAttrs checks docker's --details prefix: sorted keys, query-escaped.
func TestLogAttrs(t *testing.T) {
	tests := []struct {
		attrs map[string]string
		want  string
	}{
		{nil, ""},
		{map[string]string{"b": "2", "a": "1"}, "a=1,b=2"},
		{map[string]string{"k y": "v,w=x"}, "k+y=v%2Cw%3Dx"},
	}
	for _, tt := range tests {
		if got := string(logAttrs(tt.attrs)); got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.attrs, got, tt.want)
		}
	}
}
