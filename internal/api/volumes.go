package api

import (
	"net/http"

	"github.com/moby/moby/api/types/volume"
)

// volumeRoutes registers /volumes.
func (s *Server) volumeRoutes() {
	s.handle("GET /volumes", s.volumeList)
	s.handle("GET /volumes/{$}", s.volumeList)
	s.handle("POST /volumes/create", s.volumeCreate)
	s.handle("POST /volumes/prune", s.volumePrune)
	s.handle("GET /volumes/{name}", s.volumeInspect)
	s.handle("DELETE /volumes/{name}", s.volumeRemove)
}

// volumeList answers GET /volumes?filters=.
func (s *Server) volumeList(w http.ResponseWriter, r *http.Request) error {
	filters, err := requestFilters(r)
	if err != nil {
		return err
	}
	list, err := s.backend.VolumeList(r.Context(), filters)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// volumeCreate answers POST /volumes/create with 201 and the volume.
func (s *Server) volumeCreate(w http.ResponseWriter, r *http.Request) error {
	var req volume.CreateRequest
	if err := readJSONBody(r, &req); err != nil {
		return err
	}
	v, err := s.backend.VolumeCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

// volumeInspect answers GET /volumes/{name}.
func (s *Server) volumeInspect(w http.ResponseWriter, r *http.Request) error {
	v, err := s.backend.VolumeInspect(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// volumeRemove answers DELETE /volumes/{name}?force= with 204.
func (s *Server) volumeRemove(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	if err := s.backend.VolumeRemove(r.Context(), r.PathValue("name"), boolValue(q, "force")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// volumePrune answers POST /volumes/prune?filters=.
func (s *Server) volumePrune(w http.ResponseWriter, r *http.Request) error {
	filters, err := requestFilters(r)
	if err != nil {
		return err
	}
	report, err := s.backend.VolumePrune(r.Context(), filters)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, report)
}
