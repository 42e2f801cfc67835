package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// containerRoutes registers /containers. Container names contain no
// slashes, so plain {id} wildcards suffice.
func (s *Server) containerRoutes() {
	s.handle("POST /containers/create", s.containerCreate)
	s.handle("GET /containers/json", s.containerList)
	s.handle("GET /containers/{id}/json", s.containerInspect)
	s.handle("POST /containers/{id}/start", s.containerStart)
	s.handle("POST /containers/{id}/stop", s.containerStop)
	s.handle("POST /containers/{id}/restart", s.containerRestart)
	s.handle("POST /containers/{id}/kill", s.containerKill)
	s.handle("POST /containers/{id}/wait", s.containerWait)
	s.handle("DELETE /containers/{id...}", s.containerRemove) // {id...}: a link to remove is /<container>/<alias>
	s.handle("GET /containers/{id}/logs", s.containerLogs)
	s.handle("POST /containers/{id}/attach", s.containerAttach)
	s.handle("POST /containers/{id}/resize", s.containerResize)
	s.handle("POST /containers/{id}/rename", s.containerRename)
}

// checkJSONContentType refuses bodies declared as something other than
// JSON; an absent Content-Type is accepted.
func checkJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == "application/json" {
		return nil
	}
	return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("unsupported Content-Type header (%s): must be 'application/json'", ct))
}

// errEmptyConfig is dockerd's answer to a create request without a config.
var errEmptyConfig = errdefs.ErrInvalidArgument.WithMessage("config cannot be empty in order to create a container")

// decodeCreateRequest reads a container.CreateRequest body, and its
// deprecated container-wide MacAddress.
func decodeCreateRequest(body io.Reader) (*container.CreateRequest, string, error) {
	var req createBody
	dec := json.NewDecoder(body)
	if err := dec.Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, "", errEmptyConfig
		}
		return nil, "", errdefs.ErrInvalidArgument.WithMessage(err.Error())
	}
	if dec.More() {
		return nil, "", errdefs.ErrInvalidArgument.WithMessage("unexpected content after JSON")
	}
	if req.Config == nil {
		return nil, "", errEmptyConfig
	}
	return &req.CreateRequest, req.MacAddress, nil
}

// containerCreate answers POST /containers/create?name=.
func (s *Server) containerCreate(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	if err := checkJSONContentType(r); err != nil {
		return err
	}
	req, mac, err := decodeCreateRequest(r.Body)
	if err != nil {
		return err
	}
	warning, err := moveContainerMAC(!versionAtLeast(r.Context(), "1.44"), mac, req)
	if err != nil {
		return err
	}
	resp, err := s.backend.ContainerCreate(r.Context(), q.Get("name"), req)
	if err != nil {
		return err
	}
	if resp.Warnings == nil {
		resp.Warnings = []string{}
	}
	if warning != "" {
		resp.Warnings = append(resp.Warnings, warning)
	}
	return writeJSON(w, http.StatusCreated, resp)
}

// containerList answers GET /containers/json.
func (s *Server) containerList(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	filters, err := parseFilters(q)
	if err != nil {
		return err
	}
	limit, err := intValue(q, "limit", 0)
	if err != nil {
		return err
	}
	list, err := s.backend.ContainerList(r.Context(), ContainerListOptions{
		All:     boolValue(q, "all"),
		Limit:   limit,
		Size:    boolValue(q, "size"),
		Filters: filters,
	})
	if err != nil {
		return err
	}
	if list == nil {
		list = []container.Summary{}
	}
	return writeJSONList(w, http.StatusOK, list)
}

// containerInspect answers GET /containers/{id}/json.
func (s *Server) containerInspect(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	c, err := s.backend.ContainerInspect(r.Context(), r.PathValue("id"), boolValue(q, "size"))
	if err != nil {
		return err
	}
	if !versionAtLeast(r.Context(), "1.45") {
		addOldAliases(c)
	}
	if !versionAtLeast(r.Context(), "1.52") {
		return writeJSON(w, http.StatusOK, forOldClients(c))
	}
	return writeJSON(w, http.StatusOK, c)
}

// containerStart answers POST /containers/{id}/start: 204, or 304 (an
// errdefs.ErrNotModified from the backend) when it already runs.
func (s *Server) containerStart(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	if q.Get("checkpoint") != "" {
		return errdefs.ErrNotImplemented.WithMessage("checkpoints are not supported")
	}
	if err := s.backend.ContainerStart(r.Context(), r.PathValue("id"), q.Get("detachKeys")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerStop answers POST /containers/{id}/stop?t=&signal=: 204, or 304
// when it was not running.
func (s *Server) containerStop(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	timeout, err := optionalIntValue(q, "t")
	if err != nil {
		return err
	}
	alreadyStopped, err := s.backend.ContainerStop(r.Context(), r.PathValue("id"), q.Get("signal"), timeout)
	if err != nil {
		return err
	}
	if alreadyStopped {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerRestart answers POST /containers/{id}/restart?t=&signal=.
func (s *Server) containerRestart(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	timeout, err := optionalIntValue(q, "t")
	if err != nil {
		return err
	}
	if err := s.backend.ContainerRestart(r.Context(), r.PathValue("id"), q.Get("signal"), timeout); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerKill answers POST /containers/{id}/kill?signal=.
func (s *Server) containerKill(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerKill(r.Context(), r.PathValue("id"), q.Get("signal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerWait answers POST /containers/{id}/wait?condition=. The 200 is
// sent and flushed as soon as the wait is registered, so the client knows
// it may start the container; the result follows when the condition is met.
func (s *Server) containerWait(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	condition := container.WaitConditionNotRunning
	switch c := container.WaitCondition(q.Get("condition")); c {
	case "":
	case container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
		condition = c
	default:
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid condition: %q", c))
	}
	ctx, cancel := s.longPoll(r.Context())
	defer cancel()
	results, err := s.backend.ContainerWait(ctx, r.PathValue("id"), condition)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()

	var resp container.WaitResponse
	select {
	case res, ok := <-results:
		if ok {
			resp = res
		} else {
			resp = container.WaitResponse{StatusCode: -1, Error: &container.WaitExitError{Message: "wait ended without a result"}}
		}
	case <-ctx.Done():
		resp = container.WaitResponse{StatusCode: -1, Error: &container.WaitExitError{Message: "wait cancelled: " + context.Cause(ctx).Error()}}
	}
	return json.NewEncoder(w).Encode(&resp)
}

// containerRemove answers DELETE /containers/{id}?force=&v=&link=.
func (s *Server) containerRemove(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerRemove(r.Context(), r.PathValue("id"), boolValue(q, "force"), boolValue(q, "v"), boolValue(q, "link")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerResize answers POST /containers/{id}/resize?h=&w=.
func (s *Server) containerResize(w http.ResponseWriter, r *http.Request) error {
	height, width, err := parseSize(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerResize(r.Context(), r.PathValue("id"), height, width); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// parseSize reads a resize request's terminal height and width (?h=&w=).
func parseSize(r *http.Request) (height, width uint, err error) {
	q, err := parseQuery(r)
	if err != nil {
		return 0, 0, err
	}
	if height, err = uintValue(q, "h", 0); err != nil {
		return 0, 0, err
	}
	if width, err = uintValue(q, "w", 0); err != nil {
		return 0, 0, err
	}
	return height, width, nil
}

// containerRename answers POST /containers/{id}/rename?name=.
func (s *Server) containerRename(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerRename(r.Context(), r.PathValue("id"), q.Get("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
