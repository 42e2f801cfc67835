package api

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveLimited serves a fake backend on a loopback TCP listener with opts'
// connection limits and returns its address.
func serveLimited(t *testing.T, opts Options) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(newFakeBackend(), opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	t.Cleanup(func() {
		_ = s.srv.Close()
		<-done
	})
	return l.Addr().String()
}

// closedWithin tells whether the server closes c within d (a read ends in
// EOF or a reset rather than its deadline).
func closedWithin(t *testing.T, c net.Conn, d time.Duration) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func TestServerDefaults(t *testing.T) {
	s := New(newFakeBackend(), Options{})
	if s.srv.ReadHeaderTimeout != DefaultReadHeaderTimeout || s.srv.IdleTimeout != DefaultIdleTimeout || s.srv.MaxHeaderBytes != DefaultMaxHeaderBytes {
		t.Errorf("limits %v %v %d, want the defaults", s.srv.ReadHeaderTimeout, s.srv.IdleTimeout, s.srv.MaxHeaderBytes)
	}
	if s.srv.ReadTimeout != 0 || s.srv.WriteTimeout != 0 {
		t.Error("read/write timeouts would cut pulls, builds and attach sessions")
	}
}

// A client that never finishes its headers is dropped after
// ReadHeaderTimeout (slowloris).
func TestServerReadHeaderTimeout(t *testing.T) {
	addr := serveLimited(t, Options{ReadHeaderTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /_ping HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(t, c, 5*time.Second) {
		t.Fatal("a client stuck in its headers kept its connection")
	}
}

// A kept-alive connection with no next request is closed after
// IdleTimeout.
func TestServerIdleTimeout(t *testing.T) {
	addr := serveLimited(t, Options{IdleTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ping: %s", resp.Status)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("an idle kept-alive connection stayed open past IdleTimeout")
	}
}

// Headers larger than MaxHeaderBytes get 431 and nothing reaches the
// backend.
func TestServerMaxHeaderBytes(t *testing.T) {
	addr := serveLimited(t, Options{MaxHeaderBytes: 4096})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET /_ping HTTP/1.1\r\nHost: x\r\nX-Registry-Auth: " + strings.Repeat("a", 64<<10) + "\r\n\r\n"
	go func() { _, _ = io.WriteString(c, req) }()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB of headers: %s, want 431", resp.Status)
	}
}
