package api

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

func TestAttachMultiplexed(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "cat", "busybox", []string{"cat"}, false)
	if _, err := env.client.ContainerStart(ctx, "cat", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	att, err := env.client.ContainerAttach(ctx, "cat", client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	if mt, ok := att.MediaType(); !ok || mt != "application/vnd.docker.multiplexed-stream" {
		t.Errorf("media type %q %v", mt, ok)
	}
	if _, err := att.Conn.Write([]byte("hello\nworld\n")); err != nil {
		t.Fatal(err)
	}
	// Half-close: the end of stdin must not end the output.
	if err := att.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "hello\nworld\n" || stderr.String() != "bye\n" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}

	// logs=1 replays what was written, without a stream.
	att2, err := env.client.ContainerAttach(ctx, "cat", client.ContainerAttachOptions{Logs: true, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer att2.Close()
	stdout.Reset()
	stderr.Reset()
	if _, err := stdcopy.StdCopy(&stdout, &stderr, att2.Reader); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "hello\nworld\n" {
		t.Errorf("logs replay %q", stdout.String())
	}
}

func TestAttachTTYIsRaw(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "tty", "busybox", []string{"cat"}, true)
	if _, err := env.client.ContainerStart(ctx, "tty", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	att, err := env.client.ContainerAttach(ctx, "tty", client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	if mt, _ := att.MediaType(); mt != "application/vnd.docker.raw-stream" {
		t.Errorf("media type %q", mt)
	}
	att.Conn.Write([]byte("hi\n"))
	att.CloseWrite()
	out, err := io.ReadAll(att.Reader)
	if err != nil || string(out) != "hi\nbye\n" {
		t.Errorf("raw output %q %v", out, err)
	}
}

// rawAttach sends an attach request and stdin bytes in one write, so the
// server's HTTP reader buffers stdin together with the request.
func rawAttach(t *testing.T, env *testEnv, path string, upgrade bool, stdin string) (*bufio.Reader, net.Conn) {
	t.Helper()
	conn, err := net.Dial("unix", env.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "POST " + path + " HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n"
	if upgrade {
		req += "Connection: Upgrade\r\nUpgrade: tcp\r\n"
	}
	if _, err := conn.Write([]byte(req + "\r\n" + stdin)); err != nil {
		t.Fatal(err)
	}
	conn.(*net.UnixConn).CloseWrite()
	return bufio.NewReader(conn), conn
}

func TestAttachBufferedStdin(t *testing.T) {
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "cat", "busybox", []string{"cat"}, false)
	if _, err := env.client.ContainerStart(testCtx(t), "cat", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, upgrade := range []bool{true, false} {
		br, _ := rawAttach(t, env, "/v1.50/containers/cat/attach?stream=1&stdin=1&stdout=1&stderr=1", upgrade, "early\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus := "101 UPGRADED"
		if !upgrade {
			wantStatus = "200 OK"
		}
		if resp.Status != wantStatus {
			t.Errorf("upgrade=%v: status %q, want %q", upgrade, resp.Status, wantStatus)
		}
		if upgrade && (resp.Header.Get("Upgrade") != "tcp" || resp.Header.Get("Connection") != "Upgrade") {
			t.Errorf("upgrade headers %v", resp.Header)
		}
		if resp.Header.Get("Api-Version") != "1.56" {
			t.Errorf("hijacked response lost the common headers: %v", resp.Header)
		}
		var stdout, stderr bytes.Buffer
		if _, err := stdcopy.StdCopy(&stdout, &stderr, br); err != nil {
			t.Fatal(err)
		}
		if stdout.String() != "early\n" || stderr.String() != "bye\n" {
			t.Errorf("upgrade=%v: stdout %q stderr %q", upgrade, stdout.String(), stderr.String())
		}
	}
}

func TestAttachErrors(t *testing.T) {
	env := newTestEnv(t)
	// Before the hijack, errors are ordinary HTTP responses.
	br, _ := rawAttach(t, env, "/containers/nope/attach?stream=1&stdout=1", true, "")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 404 || errorMessage(t, resp) != "No such container: nope" {
		t.Errorf("attach missing: %d", resp.StatusCode)
	}
	_, err = env.client.ContainerAttach(testCtx(t), "nope", client.ContainerAttachOptions{Stream: true, Stdout: true})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("client attach missing: %v", err)
	}
}

func TestAttachEndsOnShutdown(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	att := attachRunning(t, env)
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(att.Reader)
		done <- err
	}()
	if err := env.server.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("attach session survived shutdown")
	}
}

// activeAttaches counts the server's open attach sessions.
func (s *Server) activeAttaches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.hijacked)
}

func TestAttachHalfCloseKeepsOutputAndHangupEnds(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("hangups are detected on linux only")
	}
	env := newTestEnv(t)
	ctx := testCtx(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "s", "busybox", []string{"sleep"}, true)
	if _, err := env.client.ContainerStart(ctx, "s", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	att, err := env.client.ContainerAttach(ctx, "s", client.ContainerAttachOptions{Stream: true, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	// docker attach half-closes at once when it has no stdin to send.
	if err := att.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * hangupPollInterval)
	env.fake.appendLog("s", "stdout", "still here\n")
	line, err := att.Reader.ReadString('\n')
	if err != nil || line != "still here\n" {
		t.Fatalf("after half-close: %q %v", line, err)
	}
	// Closing the connection entirely ends the session on the server.
	att.Close()
	deadline := time.Now().Add(5 * time.Second)
	for env.server.activeAttaches() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("attach session outlived its client")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
