package shim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// FuzzServer sends whatever the fuzzer writes to a shim's socket: a
// request line and then frames. The shim's container has either exited or
// runs (its stdin a pipe); the runtime is missing, so no operation reaches
// a real one. Every connection must be answered and closed in time, with a
// response that decodes, and the shim must not panic.
func FuzzServer(f *testing.F) {
	frame := func(kind byte, p string) string {
		var h [5]byte
		h[0] = kind
		binary.BigEndian.PutUint32(h[1:], uint32(len(p)))
		return string(h[:]) + p
	}
	for _, s := range []string{
		`{"op":"info"}` + "\n",
		`{"op":"attach","stdin":true,"stdout":true,"stderr":true}` + "\n" + frame(frameStdin, "hello") + frame(frameStdinClose, ""),
		`{"op":"attach","stdin":true}` + "\n" + frame(frameStdin, "x")[:3],
		`{"op":"attach","stdin":true}` + "\n" + "\x00\xff\xff\xff\xff",
		`{"op":"exec","process":{"args":["sh"]},"tty":true}` + "\n" + frame(frameResize, "\x00\x50\x00\x18") + frame(frameKill, ""),
		`{"op":"exec","process":"not an object"}` + "\n",
		`{"op":"kill","signal":-1}` + "\n",
		`{"op":"kill","signal":9}` + "\n",
		`{"op":"resize","width":65535,"height":0}` + "\n",
		`{"op":"update","resources":{"memory":{"limit":-1}}}` + "\n",
		`{"op":"wait"}` + "\n",
		`{"op":"start"}` + "\n", `{"op":"pause"}` + "\n", `{"op":"resume"}` + "\n", `{"op":"release"}` + "\n",
		`{"op":"shutdown"}` + "\n",
		`{"op":"\u0000"}` + "\n", "{\n", "\n", "", `{"op":"info","width":70000}` + "\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, input []byte, exited bool) {
		s := newServer(Config{ID: "fuzz", Runtime: "/nonexistent/runtime", StateDir: t.TempDir()}, log.New(io.Discard, "", 0))
		stdinR, stdinW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer stdinR.Close()
		go func() { _, _ = io.Copy(io.Discard, stdinR) }()
		s.stdio = &stdio{stdin: stdinW}
		if exited {
			s.state, s.ended, s.exit = stateStopped, true, &ExitStatus{}
			close(s.exited)
			close(s.deleted)
		}
		client, server := socketPair(t)
		defer client.Close()
		done := make(chan struct{})
		go func() { defer close(done); s.handle(server) }()
		_ = client.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := client.Write(input); err != nil && !isGone(err) {
			t.Fatalf("write: %v", err)
		}
		_ = client.CloseWrite()
		br := bufio.NewReader(client)
		line, err := br.ReadBytes('\n')
		if err == nil {
			var resp response
			if jerr := json.Unmarshal(line, &resp); jerr != nil {
				t.Fatalf("response %q: %v", line, jerr)
			}
			_ = resp.err()
		}
		if _, err := io.Copy(io.Discard, br); err != nil && !isGone(err) {
			t.Fatalf("the shim did not close the connection: %v", err)
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the shim's handler did not return")
		}
		stdinW.Close()
	})
}

// FuzzReceive demultiplexes frames as a client of the shim does.
func FuzzReceive(f *testing.F) {
	var b bytes.Buffer
	_ = writeFrame(&b, frameStdout, []byte("out"))
	_ = writeFrame(&b, frameStderr, []byte("err"))
	_ = writeFrame(&b, frameEnd, nil)
	f.Add(b.Bytes())
	f.Add([]byte{frameEnd, 0, 0, 0, 3, 'b', 'a', 'd'})
	f.Add([]byte{frameStdout, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{9, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var out, errOut bytes.Buffer
		_ = receive(bytes.NewReader(data), &out, &errOut)
		if out.Len()+errOut.Len() > len(data) {
			t.Fatalf("%d bytes of output from %d bytes of frames", out.Len()+errOut.Len(), len(data))
		}
	})
}

// socketPair is a connected pair of unix sockets, as a shim's accept gives.
func socketPair(t *testing.T) (client, server *net.UnixConn) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

func isGone(err error) bool {
	return err == nil || err == io.EOF || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
