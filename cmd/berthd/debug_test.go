package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigDebug checks -D/--debug and daemon.json's "debug": debug mode
// forces debug logs, whatever --log-level says.
func TestConfigDebug(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		file string
		want bool
	}{
		{name: "default", want: false},
		{name: "-D", args: []string{"-D", "--log-level", "error"}, want: true},
		{name: "--debug", args: []string{"--debug"}, want: true},
		{name: "daemon.json", file: `{"debug": true}`, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := loadConfig(t, tc.args, tc.file, "")
			if c.Debug != tc.want {
				t.Fatalf("Debug = %v, want %v", c.Debug, tc.want)
			}
			if tc.want && c.level() != slog.LevelDebug {
				t.Fatalf("level = %v in debug mode, want debug", c.level())
			}
		})
	}
	loadConfig(t, []string{"-D"}, `{"debug": true}`, "debug: (from flag: true, from file: true)")
}

// TestServeDebug reads a goroutine profile and expvar's memstats from the
// debug socket, which only its owner may open.
func TestServeDebug(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "x", debugSocketName)
	stop, err := serveDebug(sock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("debug socket mode %v, want 0600", fi.Mode().Perm())
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	for path, want := range map[string]string{
		"/debug/pprof/goroutine?debug=1": "goroutine profile: total ",
		"/debug/pprof/":                  "heap",
		"/debug/vars":                    `"memstats"`,
	} {
		resp, err := hc.Get("http://berthd" + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %s, body without %q:\n%.300s", path, resp.Status, want, body)
		}
	}
	stop()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("debug socket still there after stop: %v", err)
	}
}

// TestServeDebugLongPath refuses a socket path the kernel cannot hold.
func TestServeDebugLongPath(t *testing.T) {
	sock := filepath.Join("/tmp", strings.Repeat("x", 120), debugSocketName)
	if _, err := serveDebug(sock, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("serveDebug(long path) = %v, want a too-long error", err)
	}
}
