package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Endpoint is one registry host as berthd reaches it. Its Transport picks
// the scheme: HTTPS, or, for an insecure-allowed host whose HTTPS attempt
// fails, plain HTTP (the choice is kept for the Endpoint's life). Requests
// to other hosts (token servers, blob redirects) pass through unchanged.
type Endpoint struct {
	Host      string // "127.0.0.1:5000", "index.docker.io"
	insecure  bool
	base      http.RoundTripper
	mu        sync.Mutex
	scheme    string // "" until a request settled it
	transport *hostTransport
}

// Endpoint returns how to reach host.
func (h *Hosts) Endpoint(host string) (*Endpoint, error) {
	tlsCfg, err := h.TLSConfig(host)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tlsCfg
	t.MaxIdleConnsPerHost = 16
	t.ResponseHeaderTimeout = 5 * time.Minute
	e := &Endpoint{Host: host, insecure: h.Insecure(host), base: t}
	e.transport = &hostTransport{e: e}
	return e, nil
}

// Transport is the endpoint's round tripper (without credentials).
func (e *Endpoint) Transport() http.RoundTripper { return e.transport }

// Scheme is the scheme requests use: the settled one, else the first that
// will be tried.
func (e *Endpoint) Scheme() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.scheme != "" {
		return e.scheme
	}
	return "https"
}

// URL is the address of path ("/v2/...") on the endpoint.
func (e *Endpoint) URL(path string) string {
	return e.Scheme() + "://" + e.Host + path
}

// Ping requests /v2/ (settling the scheme) and reports whether the
// registry answers as a v2 registry. A 401 is a success here: it tells how
// to authenticate.
func (e *Endpoint) Ping(ctx context.Context) error {
	client := &http.Client{Transport: e.transport}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+e.Host+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return e.fixURL(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusUnauthorized:
		return nil
	}
	return fmt.Errorf("%s %q: unexpected status code %d %s", req.Method, e.URL("/v2/"), resp.StatusCode, http.StatusText(resp.StatusCode))
}

// fixURL rewrites a client error's URL to the scheme actually tried last,
// so messages name the address docker would.
func (e *Endpoint) fixURL(err error) error {
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return err
	}
	_, rest, ok := strings.Cut(uerr.URL, "://")
	if !ok {
		return err
	}
	return &url.Error{Op: uerr.Op, URL: e.lastScheme() + "://" + rest, Err: uerr.Err}
}

// FixError gives a request error on this endpoint the URL actually tried.
func (e *Endpoint) FixError(err error) error { return e.fixURL(err) }

func (e *Endpoint) lastScheme() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.transport.last != "" {
		return e.transport.last
	}
	return "https"
}

// hostTransport sends the endpoint's requests with the right scheme.
type hostTransport struct {
	e    *Endpoint
	last string // scheme of the last attempt, for error messages
}

// RoundTrip implements http.RoundTripper.
func (t *hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	e := t.e
	if !strings.EqualFold(req.URL.Host, e.Host) {
		return e.base.RoundTrip(req)
	}
	e.mu.Lock()
	scheme := e.scheme
	e.mu.Unlock()
	if scheme != "" {
		return e.base.RoundTrip(withScheme(req, scheme))
	}
	resp, err := t.try(req, "https")
	if err == nil {
		return resp, nil
	}
	if !e.insecure || ctxDone(req) {
		return nil, err
	}
	// Like dockerd, an insecure registry that fails over HTTPS (a plain
	// HTTP server, a refused port) is tried over HTTP.
	retry := req
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, err
		}
		body, gerr := req.GetBody()
		if gerr != nil {
			return nil, err
		}
		retry = req.Clone(req.Context())
		retry.Body = body
	}
	return t.try(retry, "http")
}

func (t *hostTransport) try(req *http.Request, scheme string) (*http.Response, error) {
	e := t.e
	e.mu.Lock()
	t.last = scheme
	e.mu.Unlock()
	resp, err := e.base.RoundTrip(withScheme(req, scheme))
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.scheme == "" {
		e.scheme = scheme
	}
	e.mu.Unlock()
	return resp, nil
}

func ctxDone(req *http.Request) bool { return req.Context().Err() != nil }

// withScheme returns req (or a shallow clone) using scheme.
func withScheme(req *http.Request, scheme string) *http.Request {
	if req.URL.Scheme == scheme {
		return req
	}
	r := req.Clone(req.Context())
	r.Body = req.Body // Clone shares the body anyway; keep it explicit
	r.URL.Scheme = scheme
	return r
}
