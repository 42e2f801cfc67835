package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// newTCPEnv serves the fake backend on loopback TCP, where a client that
// vanishes shows only a FIN, as a half-closing one does.
func newTCPEnv(t *testing.T) *testEnv {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := &testEnv{fake: newFakeBackend(), logs: &logRecorder{}}
	env.server = New(env.fake, Options{Version: "1.56", MinVersion: "1.24", Logf: env.logs.logf})
	served := make(chan error, 1)
	go func() { served <- env.server.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = env.server.Shutdown(ctx)
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	env.client, err = client.New(client.WithHost("tcp://" + l.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.client.Close() })
	return env
}

// TestAttachTCPHalfCloseAndVanish: over TCP a half-closed client of a
// multiplexed attach keeps its output (the probes berthd sends meanwhile
// are empty frames stdcopy skips), and a client that then closes is
// noticed although it never resets nor writes.
func TestAttachTCPHalfCloseAndVanish(t *testing.T) {
	env := newTCPEnv(t)
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
	defer att.Close()
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, io.Discard, att.Reader)
		pw.CloseWithError(err)
	}()
	// docker attach half-closes at once when it has no stdin to send.
	if err := att.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2*probeInterval + hangupPollInterval)
	env.fake.appendLog("s", "stdout", "still here\n")
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line != "still here\n" {
		t.Fatalf("after half-close and probes: %q %v", line, err)
	}
	if env.server.activeAttaches() != 1 {
		t.Fatal("the half-closed client's session ended")
	}
	att.Close()
	deadline := time.Now().Add(probeInterval + 5*time.Second)
	for env.server.activeAttaches() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("attach session outlived its TCP client")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
