package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
)

// networkRoutes registers /networks. "/networks/" lists too, as in dockerd.
func (s *Server) networkRoutes() {
	s.handle("GET /networks", s.networkList)
	s.handle("GET /networks/{$}", s.networkList)
	s.handle("GET /networks/{id}", s.networkInspect)
	s.handle("POST /networks/create", s.networkCreate)
	s.handle("POST /networks/prune", s.networkPrune)
	s.handle("POST /networks/{id}/connect", s.networkConnect)
	s.handle("POST /networks/{id}/disconnect", s.networkDisconnect)
	s.handle("DELETE /networks/{id}", s.networkRemove)
}

// The filter keys dockerd accepts on /networks and /networks/prune.
var (
	networkListFilters  = []string{"dangling", "driver", "id", "label", "name", "scope", "type"}
	networkPruneFilters = []string{"label", "label!", "until"}
)

// networkFilters parses the `filters` parameter and refuses keys outside
// accepted with dockerd's message.
func networkFilters(r *http.Request, accepted []string) (Filters, error) {
	filters, err := requestFilters(r)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(filters))
	for k := range filters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(accepted, k) {
			return nil, errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter '%s'", k))
		}
	}
	return filters, nil
}

// networkList answers GET /networks?filters=.
func (s *Server) networkList(w http.ResponseWriter, r *http.Request) error {
	filters, err := networkFilters(r, networkListFilters)
	if err != nil {
		return err
	}
	for _, t := range filters["type"] {
		if t != "custom" && t != "builtin" {
			return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid filter: 'type'='%s'", t))
		}
	}
	list, err := s.backend.NetworkList(r.Context(), filters)
	if err != nil {
		return err
	}
	if list == nil {
		list = []network.Summary{}
	}
	return writeJSON(w, http.StatusOK, list)
}

// networkInspect answers GET /networks/{id}?verbose=&scope=. Every berth
// network is local: asking for another scope finds nothing, as dockerd
// does for a local network.
func (s *Server) networkInspect(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	name := r.PathValue("id")
	switch scope := q.Get("scope"); scope {
	case "", "local":
	case "swarm", "global":
		return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("network %s not found", name))
	default:
		return errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("invalid scope: %q", scope))
	}
	n, err := s.backend.NetworkInspect(r.Context(), name, boolValue(q, "verbose"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, n)
}

// networkCreate answers POST /networks/create with 201 and the new id.
func (s *Server) networkCreate(w http.ResponseWriter, r *http.Request) error {
	var req network.CreateRequest
	if err := readJSONBody(r, &req); err != nil {
		return err
	}
	resp, err := s.backend.NetworkCreate(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, resp)
}

// networkRemove answers DELETE /networks/{id} with 204.
func (s *Server) networkRemove(w http.ResponseWriter, r *http.Request) error {
	if err := s.backend.NetworkRemove(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// networkPrune answers POST /networks/prune?filters=.
func (s *Server) networkPrune(w http.ResponseWriter, r *http.Request) error {
	filters, err := networkFilters(r, networkPruneFilters)
	if err != nil {
		return err
	}
	report, err := s.backend.NetworkPrune(r.Context(), filters)
	if err != nil {
		return err
	}
	if report == nil {
		report = &network.PruneReport{}
	}
	return writeJSON(w, http.StatusOK, report)
}

// networkConnect answers POST /networks/{id}/connect with an empty 200.
func (s *Server) networkConnect(w http.ResponseWriter, r *http.Request) error {
	var req network.ConnectRequest
	if err := readJSONBody(r, &req); err != nil {
		return err
	}
	if err := s.backend.NetworkConnect(r.Context(), r.PathValue("id"), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// networkDisconnect answers POST /networks/{id}/disconnect with an empty
// 200.
func (s *Server) networkDisconnect(w http.ResponseWriter, r *http.Request) error {
	var req network.DisconnectRequest
	if err := readJSONBody(r, &req); err != nil {
		return err
	}
	if err := s.backend.NetworkDisconnect(r.Context(), r.PathValue("id"), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// readJSONBody decodes a JSON request body into v with dockerd's checks
// and messages (httputils.ReadJSON): a JSON Content-Type (or none), one
// well-formed value and nothing after it.
func readJSONBody(r *http.Request, v any) error {
	if err := checkJSONContentType(r); err != nil {
		return err
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 16<<20))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errdefs.ErrInvalidArgument.WithMessage("invalid JSON: got EOF while reading request body")
		}
		return errdefs.ErrInvalidArgument.WithMessage("invalid JSON: " + err.Error())
	}
	if dec.More() {
		return errdefs.ErrInvalidArgument.WithMessage("unexpected content after JSON")
	}
	return nil
}
