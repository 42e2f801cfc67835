package api

import (
	"net/http"
)

// systemRoutes registers /_ping, /version, /info and the disk routes.
func (s *Server) systemRoutes() {
	s.handle("GET /_ping", s.ping) // also answers HEAD
	s.handle("GET /version", s.version)
	s.handle("GET /info", s.info)
	s.diskRoutes()
}

// ping answers "OK" with the headers clients negotiate with.
func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Builder-Version", "2") // BuildKit is embedded
	h.Set("Swarm", "inactive")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if r.Method == http.MethodHead {
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	_, err := w.Write([]byte("OK"))
	return err
}

// version answers GET /version; the API versions are the edge's own.
func (s *Server) version(w http.ResponseWriter, r *http.Request) error {
	v, err := s.backend.SystemVersion(r.Context())
	if err != nil {
		return err
	}
	if v.APIVersion == "" {
		v.APIVersion = s.opts.Version
	}
	if v.MinAPIVersion == "" {
		v.MinAPIVersion = s.opts.MinVersion
	}
	// The docker CLI prints the API versions from the Engine component.
	for i := range v.Components {
		if c := &v.Components[i]; c.Name == "Engine" {
			if c.Details == nil {
				c.Details = map[string]string{}
			}
			if c.Details["ApiVersion"] == "" {
				c.Details["ApiVersion"] = v.APIVersion
			}
			if c.Details["MinAPIVersion"] == "" {
				c.Details["MinAPIVersion"] = v.MinAPIVersion
			}
		}
	}
	return writeJSON(w, http.StatusOK, v)
}

// info answers GET /info.
func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	info, err := s.backend.SystemInfo(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}
