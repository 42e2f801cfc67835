package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/moby/moby/api/types/container"
)

// RunOpsBackend serves pause, unpause, update, top and stats of live
// containers.
type RunOpsBackend interface {
	ContainerPause(ctx context.Context, name string) error
	ContainerUnpause(ctx context.Context, name string) error
	ContainerUpdate(ctx context.Context, name string, req *container.UpdateConfig) (container.UpdateResponse, error)
	// ContainerTop runs ps with psArgs ("" is -ef) and keeps the
	// container's rows.
	ContainerTop(ctx context.Context, name, psArgs string) (*container.TopResponse, error)
	// ContainerStats calls emit with one sample (stream false) or one a
	// second until ctx ends.
	ContainerStats(ctx context.Context, name string, stream, oneShot bool, emit func(*container.StatsResponse) error) error
}

func (s *Server) runOpsRoutes() {
	s.handle("POST /containers/{id}/pause", s.containerPause)
	s.handle("POST /containers/{id}/unpause", s.containerUnpause)
	s.handle("POST /containers/{id}/update", s.containerUpdate)
	s.handle("GET /containers/{id}/top", s.containerTop)
	s.handle("GET /containers/{id}/stats", s.containerStats)
}

func (s *Server) containerPause(w http.ResponseWriter, r *http.Request) error {
	if err := s.backend.ContainerPause(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerUnpause(w http.ResponseWriter, r *http.Request) error {
	if err := s.backend.ContainerUnpause(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerUpdate(w http.ResponseWriter, r *http.Request) error {
	var req container.UpdateConfig
	if err := readJSONBody(r, &req); err != nil {
		return err
	}
	resp, err := s.backend.ContainerUpdate(r.Context(), r.PathValue("id"), &req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (s *Server) containerTop(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	resp, err := s.backend.ContainerTop(r.Context(), r.PathValue("id"), q.Get("ps_args"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

// containerStats streams one JSON object per sample; stream defaults to
// true, and one-shot (API 1.41) only counts without a stream.
func (s *Server) containerStats(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	stream := boolValueOrDefault(q, "stream", true)
	oneShot := !stream && boolValue(q, "one-shot")
	ctx, cancel := s.longPoll(r.Context())
	defer cancel()
	enc := json.NewEncoder(w)
	started := false
	return s.backend.ContainerStats(ctx, r.PathValue("id"), stream, oneShot, func(st *container.StatsResponse) error {
		if !started {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		if err := enc.Encode(st); err != nil {
			return err
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		return nil
	})
}
