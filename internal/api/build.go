package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
)

// buildRoutes registers the classic POST /build and POST /build/cancel.
func (s *Server) buildRoutes() {
	s.handle("POST /build", s.build)
	s.handle("POST /build/cancel", s.buildCancel)
}

// build answers POST /build: version 1 reads the context (a tar, possibly
// compressed, or a bare Dockerfile) from the body; version 2 reads it
// through the client's session. Both stream docker's JSON messages.
func (s *Server) build(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	opts, err := buildOptions(r, q)
	if err != nil {
		return err
	}
	// The context is read while the progress is written: without full
	// duplex Go's HTTP/1 server would discard the unread body at the first
	// message.
	if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
		return fmt.Errorf("enable full duplex: %w", err)
	}
	// Closing the body while the handler still owns it drains it (see
	// jsonStream: golang/go#68560).
	defer r.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	out := &streamWriter{w: w, flush: true}
	err = s.backend.Build(r.Context(), opts, r.Body, out)
	if err == nil {
		if !out.started {
			w.WriteHeader(http.StatusOK)
		}
		return nil
	}
	// As dockerd: an error before the first message is an HTTP error (a
	// parse error is a 400); after it, the stream's last message.
	if !out.started {
		return err
	}
	return writeBuildError(w, err)
}

// exitCoder is an error that carries the exit code of a failed RUN, which
// the docker CLI exits with.
type exitCoder interface {
	ExitCode() int
}

// writeBuildError appends err to the build's stream as docker's classic
// builder does: errorDetail carries a failed RUN's exit code.
func writeBuildError(w http.ResponseWriter, err error) error {
	detail := &jsonstream.Error{Message: err.Error()}
	var ec exitCoder
	if errors.As(err, &ec) {
		detail.Code = ec.ExitCode()
	}
	return json.NewEncoder(w).Encode(&streamErrorMessage{ErrorDetail: detail, Error: detail.Message})
}

// buildOptions reads POST /build's query as dockerd's newImageBuildOptions
// does, with its messages.
func buildOptions(r *http.Request, q url.Values) (BuildOptions, error) {
	opts := BuildOptions{
		Tags:          q["t"],
		Dockerfile:    q.Get("dockerfile"),
		Target:        q.Get("target"),
		NoCache:       boolValue(q, "nocache"),
		Pull:          boolValue(q, "pull"),
		ForceRemove:   boolValue(q, "forcerm"),
		NetworkMode:   q.Get("networkmode"),
		ExtraHosts:    q["extrahosts"],
		Quiet:         boolValue(q, "q"),
		Version:       "1",
		SessionID:     q.Get("session"),
		RemoteContext: q.Get("remote"),
		BuildID:       q.Get("buildid"),
	}
	// rm defaults to true; forcerm implies it.
	opts.Remove = opts.ForceRemove || boolValueOrDefault(q, "rm", true)
	if len(q["securityopt"]) > 0 {
		return opts, errdefs.ErrInvalidArgument.WithMessage("security options are not supported on " + runtime.GOOS)
	}
	if boolValue(q, "squash") {
		return opts, errdefs.ErrInvalidArgument.WithMessage("squash is only supported with experimental mode")
	}
	if i := container.Isolation(q.Get("isolation")); !i.IsValid() {
		return opts, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unsupported isolation: %q", i))
	}
	if versionAtLeast(r.Context(), "1.32") {
		opts.Platform = q.Get("platform")
	}
	if v := q.Get("outputs"); v != "" && versionAtLeast(r.Context(), "1.40") {
		if err := json.Unmarshal([]byte(v), &opts.Outputs); err != nil {
			return opts, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid outputs specified: %v", err))
		}
	}
	if v := q.Get("shmsize"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return opts, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid shmsize %q: %v", v, err))
		}
		opts.ShmSize = n
	}
	if v := q.Get("ulimits"); v != "" {
		var ulimits []*container.Ulimit
		if err := json.Unmarshal([]byte(v), &ulimits); err != nil {
			return opts, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("error reading ulimit settings: %v", err))
		}
		for _, u := range ulimits {
			if u != nil {
				opts.Ulimits = append(opts.Ulimits, u.String())
			}
		}
	}
	// A build arg may be null: --build-arg FOO with FOO unset in the
	// client's environment, which the builder warns about if unused.
	if v := q.Get("buildargs"); v != "" {
		if err := json.Unmarshal([]byte(v), &opts.BuildArgs); err != nil {
			return opts, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("error reading build args: %v", err))
		}
	}
	if v := q.Get("labels"); v != "" {
		if err := json.Unmarshal([]byte(v), &opts.Labels); err != nil {
			return opts, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("error reading labels: %v", err))
		}
	}
	if v := q.Get("cachefrom"); v != "" {
		if err := json.Unmarshal([]byte(v), &opts.CacheFrom); err != nil {
			return opts, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("error reading cache-from: %v", err))
		}
	}
	switch v := q.Get("version"); v {
	case "", "1":
	case "2":
		opts.Version = v
	default:
		return opts, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid version %q", v))
	}
	opts.AuthConfigs = buildAuthConfigs(r.Header.Get("X-Registry-Config"))
	return opts, nil
}

// buildAuthConfigs decodes X-Registry-Config (base64url JSON of registry ->
// credentials). As dockerd, a header that does not decode is ignored: a
// pull without credentials fails on its own if they were needed.
func buildAuthConfigs(header string) map[string]registry.AuthConfig {
	if header == "" {
		return nil
	}
	var auths map[string]registry.AuthConfig
	dec := base64.NewDecoder(base64.URLEncoding, strings.NewReader(header))
	if err := json.NewDecoder(dec).Decode(&auths); err != nil {
		return nil
	}
	return auths
}

// buildCancel answers POST /build/cancel?id=, cancelling the build that
// its client started with buildid=.
func (s *Server) buildCancel(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	id := q.Get("id")
	if id == "" {
		return errdefs.ErrInvalidArgument.WithMessage("build ID not provided")
	}
	if err := s.backend.BuildCancel(r.Context(), id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return nil
}
