package api

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
)

// TestAttachTCPHalfCloseAndVanish: over TCP a half-closed client of a
// multiplexed attach keeps its output (the probes berthd sends meanwhile
// are empty frames stdcopy skips), and a client that then closes is
// noticed although it never resets nor writes.
func TestAttachTCPHalfCloseAndVanish(t *testing.T) {
	// over TCP, where a client that vanishes shows only a FIN, as a
	// half-closing one does
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := serveTestEnv(t, l, "tcp://"+l.Addr().String())
	att := attachRunning(t, env)
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
