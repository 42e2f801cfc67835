package api

import (
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
)

// execRoutes registers exec's endpoints.
func (s *Server) execRoutes() {
	s.handle("POST /containers/{id}/exec", s.containerExecCreate)
	s.handle("POST /exec/{id}/start", s.execStart)
	s.handle("POST /exec/{id}/resize", s.execResize)
	s.handle("GET /exec/{id}/json", s.execInspect)
}

// containerExecCreate answers POST /containers/{id}/exec with 201 and the
// new exec's id.
func (s *Server) containerExecCreate(w http.ResponseWriter, r *http.Request) error {
	var req container.ExecCreateRequest
	if err := readJSONBody(r, &req); err != nil {
		return err
	}
	if len(req.Cmd) == 0 {
		return errdefs.ErrInvalidArgument.WithMessage("No exec command specified")
	}
	id, err := s.backend.ContainerExecCreate(r.Context(), r.PathValue("id"), &req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, container.ExecCreateResponse{ID: id})
}

// execStart answers POST /exec/{id}/start: detached, 200 once the process
// runs; attached, by hijacking the connection as attach does, streaming
// until the process exits.
func (s *Server) execStart(w http.ResponseWriter, r *http.Request) error {
	var req container.ExecStartRequest
	if err := readJSONBody(r, &req); err != nil {
		return err
	}
	if req.Detach {
		if err := s.backend.ContainerExecStart(r.Context(), r.PathValue("id"), ExecStartOptions{Detach: true}); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	ctx, cancel := s.longPoll(r.Context())
	defer cancel()
	hs, err := s.newHijackSession(ctx, cancel, w, r, true)
	if err != nil {
		return err
	}
	defer hs.close()
	var streams *AttachStreams
	opts := ExecStartOptions{GetStreams: func(multiplexed bool) (*AttachStreams, error) {
		var err error
		streams, err = hs.getStreams(multiplexed)
		return streams, err
	}}
	err = s.backend.ContainerExecStart(ctx, r.PathValue("id"), opts)
	if err != nil && hs.hijacked() != nil {
		// The client has its 101: like dockerd, tell it in the output (the
		// docker CLI prints it and reads the exit code from inspect).
		s.opts.Logf("api: exec %s: %v", r.PathValue("id"), err)
		if streams != nil {
			_, _ = streams.Stdout.Write([]byte(err.Error() + "\r\n"))
		}
		return nil
	}
	return err
}

// execResize answers POST /exec/{id}/resize?h=&w=.
func (s *Server) execResize(w http.ResponseWriter, r *http.Request) error {
	height, width, err := parseSize(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerExecResize(r.Context(), r.PathValue("id"), height, width); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// execInspect answers GET /exec/{id}/json.
func (s *Server) execInspect(w http.ResponseWriter, r *http.Request) error {
	resp, err := s.backend.ContainerExecInspect(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}
