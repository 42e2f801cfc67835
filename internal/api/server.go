// Package api is berthd's HTTP edge: it serves the Docker Engine REST API
// (routing, API-version negotiation, parameter parsing, error-to-status
// mapping, streaming and connection hijacking) over the engine behind the
// interfaces in backend.go. It never imports engine packages.
package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/trace"
)

// Options configure a Server.
type Options struct {
	// Version is the highest API version served and advertised ("1.56").
	Version string
	// MinVersion is the lowest API version accepted ("1.24").
	MinVersion string
	// ServerVersion is berth's own version, shown in the Server header;
	// "0.1.0" when empty.
	ServerVersion string
	// Logf logs server-side failures (panics, errors after a response
	// started); log.Printf when nil.
	Logf func(format string, args ...any)
	// Tracef, when set, receives one line per request with its duration.
	Tracef func(format string, args ...any)
	// TraceTo, when set (berthd -D), receives the steps of the requests
	// that carry a trace id (package trace): the id rides in the
	// request's context to the engine.
	TraceTo io.Writer

	// ReadHeaderTimeout bounds the time a client may take to send a
	// request's headers (and, on TLS, its handshake); IdleTimeout how long
	// a kept-alive connection may wait for its next request; MaxHeaderBytes
	// the size of a request's headers (larger ones get 431). Zero values
	// take the defaults below. Bodies and responses are not bounded in
	// time: pulls, builds, attach and followed logs last as long as they
	// need.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
}

// Default API versions, used when Options leave them empty.
const (
	DefaultVersion    = "1.56"
	DefaultMinVersion = "1.24"
)

// Defaults of the connection limits in Options.
const (
	DefaultReadHeaderTimeout = 30 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 1 << 20
)

// Server serves the Docker Engine API over a Backend.
type Server struct {
	backend Backend
	opts    Options
	mux     *http.ServeMux
	srv     *http.Server

	// stopping is cancelled by Shutdown: long polls (wait, followed logs)
	// end at once instead of holding the shutdown until its deadline.
	stopping context.Context
	stop     context.CancelFunc

	mu       sync.Mutex
	hijacked map[net.Conn]struct{} // attach sessions, closed by Shutdown
}

// New returns a Server answering API requests with b.
func New(b Backend, opts Options) *Server {
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.MinVersion == "" {
		opts.MinVersion = DefaultMinVersion
	}
	if opts.ServerVersion == "" {
		opts.ServerVersion = "0.1.0"
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	if opts.ReadHeaderTimeout <= 0 {
		opts.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	s := &Server{
		backend:  b,
		opts:     opts,
		mux:      http.NewServeMux(),
		hijacked: make(map[net.Conn]struct{}),
	}
	s.stopping, s.stop = context.WithCancel(context.Background())
	s.routes()
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
	}
	return s
}

// Handler returns the HTTP handler serving the API, for use with any
// http.Server (tests use it directly).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// Serve accepts connections on l until Shutdown; it then returns
// http.ErrServerClosed. It may be called for several listeners.
func (s *Server) Serve(l net.Listener) error {
	return s.srv.Serve(l)
}

// Shutdown stops accepting connections, ends long polls and attach
// sessions, and waits for the other requests to finish until ctx is done,
// when it closes every connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	s.mu.Lock()
	for c := range s.hijacked {
		c.Close()
	}
	s.mu.Unlock()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	return err
}

// serveHTTP sets the headers every response carries, strips the version
// prefix and routes.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Api-Version", s.opts.Version)
	h.Set("Server", fmt.Sprintf("Berth/%s (%s)", s.opts.ServerVersion, runtime.GOOS))
	h.Set("Docker-Experimental", "false")
	h.Set("Ostype", runtime.GOOS)

	version := s.opts.Version
	if v, rest, ok := splitVersion(r.URL.Path); ok {
		version = v
		r = r.Clone(r.Context())
		if r.URL.RawPath != "" {
			if _, rawRest, ok := splitVersion(r.URL.RawPath); ok {
				r.URL.RawPath = rawRest
			}
		}
		r.URL.Path = rest
	}
	s.mux.ServeHTTP(w, r.WithContext(withAPIVersion(r.Context(), version)))
}

// handlerFunc is an API handler: parse, call the backend, write, return the
// error. An error is answered with its status unless the response has
// already started.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h for a ServeMux pattern, behind the version check,
// panic recovery and error writing.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		rw := &responseWriter{ResponseWriter: w, server: s}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.opts.Logf("api: panic serving %s %s: %v\n%s", r.Method, r.URL.Path, p, debug.Stack())
				if rw.started || rw.hijacked {
					// Half a response was sent: only a broken connection
					// tells the client something went wrong.
					panic(http.ErrAbortHandler)
				}
				writeError(rw, fmt.Errorf("internal server error: %v", p))
			}
		}()
		began := time.Now()
		tr := s.requestTrace(r)
		if tr != nil {
			r = r.WithContext(trace.With(r.Context(), tr))
		}
		err := checkVersion(apiVersion(r.Context()), s.opts.MinVersion, s.opts.Version)
		if err == nil {
			err = h(rw, r)
		}
		tr.Step("api "+pattern, began)
		if s.opts.Tracef != nil {
			s.opts.Tracef("api: %s %s took %s (err: %v)", r.Method, r.URL.Path, time.Since(began), err)
		}
		if err == nil {
			return
		}
		if rw.started || rw.hijacked {
			s.opts.Logf("api: %s %s failed after the response started: %v", r.Method, r.URL.Path, err)
			return
		}
		writeError(rw, err)
	})
}

// requestTrace is the trace r asks for, or nil (none asked, or tracing off).
func (s *Server) requestTrace(r *http.Request) *trace.Trace {
	if s.opts.TraceTo == nil {
		return nil
	}
	id := r.Header.Get(trace.Header)
	if !trace.ValidID(id) {
		return nil
	}
	return trace.New(id, "berthd", s.opts.TraceTo)
}

// notFound answers every request no route matches (including a known path
// with another method), as dockerd does.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, errdefs.ErrNotFound.WithMessage("page not found"))
}

// routes registers every endpoint.
func (s *Server) routes() {
	s.mux.HandleFunc("/", notFound)
	s.systemRoutes()
	s.containerRoutes()
	s.imageRoutes()
	s.distributionRoutes()
	s.networkRoutes()
	s.volumeRoutes()
	s.swarmRoutes()
	s.execRoutes()
	s.filesRoutes()
	s.eventRoutes()
	s.runOpsRoutes()
	s.buildKitRoutes()
	s.buildRoutes()
	s.buildCacheRoutes()
}
