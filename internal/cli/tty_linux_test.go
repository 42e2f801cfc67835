package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// TestRunInteractiveTTY drives `run -it` through a real pty: the terminal
// goes raw, the window size reaches the container, typed input is streamed,
// Ctrl-P Ctrl-Q detaches with exit 0 and the terminal is restored.
func TestRunInteractiveTTY(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	defer slave.Close()
	if err := pty.Setsize(master, &pty.Winsize{Rows: 33, Cols: 101}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}

	e := newFakeEngine(t)
	var mu sync.Mutex
	var resizes []string
	var sawRaw bool
	started := make(chan struct{})
	e.handle("POST /containers/create", replyJSON(http.StatusCreated, `{"Id":"`+testID+`","Warnings":[]}`))
	e.handle("POST /containers/{id}/start", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		w.WriteHeader(http.StatusNoContent)
	})
	e.handle("POST /containers/{id}/wait", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	e.handle("POST /containers/{id}/resize", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		resizes = append(resizes, r.URL.Query().Get("h")+"x"+r.URL.Query().Get("w"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	e.handle("POST /containers/{id}/attach", hijack(func(conn net.Conn) {
		<-started
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		mu.Lock()
		sawRaw = err == nil && tio.Lflag&unix.ICANON == 0
		mu.Unlock()
		// A TTY stream is raw: echo what arrives, like a shell would.
		_, _ = io.Copy(conn, conn)
	}))

	// Type a command, wait for its echo, then detach with Ctrl-P Ctrl-Q.
	output := make(chan string, 1)
	go func() {
		<-started
		_, _ = master.Write([]byte("ls\r"))
		var b strings.Builder
		buf := make([]byte, 256)
		for !strings.Contains(b.String(), "ls") {
			n, err := master.Read(buf)
			if err != nil {
				break
			}
			b.Write(buf[:n])
		}
		output <- b.String()
		_, _ = master.Write([]byte{16, 17})
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code := Execute(ctx, []string{"-H", e.host, "run", "-it", "busybox", "sh"}, slave, slave, slave)
	if code != 0 {
		t.Fatalf("exit code %d, want 0 after detaching", code)
	}
	select {
	case got := <-output:
		if !strings.Contains(got, "ls") {
			t.Errorf("terminal output %q lacks the echo", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("no echo on the terminal")
	}
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lflag != before.Lflag || after.Iflag != before.Iflag || after.Oflag != before.Oflag {
		t.Errorf("terminal not restored: lflag %x -> %x", before.Lflag, after.Lflag)
	}
	mu.Lock()
	defer mu.Unlock()
	if !sawRaw {
		t.Error("terminal was not raw while attached")
	}
	if len(resizes) == 0 || resizes[0] != "33x101" {
		t.Errorf("resizes = %v, want 33x101 first", resizes)
	}
	var req struct{ HostConfig struct{ ConsoleSize [2]uint } }
	_ = json.Unmarshal(e.body("POST /containers/create"), &req)
	if req.HostConfig.ConsoleSize != [2]uint{33, 101} {
		t.Errorf("console size = %v", req.HostConfig.ConsoleSize)
	}
	if c := e.callMatching("POST /containers/" + testID + "/attach"); !strings.Contains(c, "stdin=1") {
		t.Errorf("attach call = %q", c)
	}
}
