package main

import (
	"errors"
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"
)

// debugSocketName is the debug socket's name in the exec root, as
// containerd keeps its debug.sock beside its other run-time files.
const debugSocketName = "debug.sock"

// maxUnixPath is the longest path a unix socket address holds (sun_path
// is 108 bytes with its terminating NUL).
const maxUnixPath = 107

// debugMux serves Go's run-time profiles (net/http/pprof) and expvar's
// /debug/vars (command line and memstats), the endpoints dockerd serves in
// debug mode.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // goroutine, heap, allocs, block, mutex, threadcreate
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/vars", expvar.Handler())
	return mux
}

// serveDebug serves debugMux on a root-only unix socket at path until the
// returned stop is called. Only -D/--debug starts it: profiles show
// command lines, environment-derived data and memory, so they are never
// on the API socket that the docker group can reach.
func serveDebug(path string, logger *slog.Logger) (stop func(), err error) {
	if len(path) > maxUnixPath {
		return nil, fmt.Errorf("debug socket %s: path longer than %d bytes", path, maxUnixPath)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o710); err != nil {
		return nil, err
	}
	// the data root lock is held, so a socket left here is stale
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("debug socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("debug socket %s: %w", path, err)
	}
	srv := &http.Server{Handler: debugMux(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("debug socket stopped", "err", err)
		}
	}()
	logger.Info("debug socket serving pprof", "addr", path)
	return func() {
		srv.Close()
		os.Remove(path)
	}, nil
}
