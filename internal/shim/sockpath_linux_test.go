package shim

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWithSocketPathLong(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("long-folder/", 12))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, socketName)
	if len(sock) <= maxSocketPath {
		t.Fatalf("%s fits in sun_path: the test proves nothing", sock)
	}
	var l *net.UnixListener
	if err := withSocketPath(sock, func(name string) (err error) {
		l, err = net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("the socket is not in its folder: %v", err)
	}
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Write([]byte("ok"))
			c.Close()
		}
	}()
	var c net.Conn
	if err := withSocketPath(sock, func(name string) (err error) {
		c, err = net.Dial("unix", name)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read %q, %v", buf, err)
	}
	c.Close()
}
