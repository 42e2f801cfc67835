package api

import (
	"encoding/json"
	"net/http"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/jsonstream"
)

// statusFromError is the one place where an error becomes an HTTP status.
// It copies dockerd's table (daemon/server/httpstatus), which differs from
// errdefs' own HTTP helper: only the classes below have a status of their
// own, everything else is a 500. Do not add checks elsewhere.
func statusFromError(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errdefs.IsNotFound(err):
		return http.StatusNotFound
	case errdefs.IsInvalidArgument(err):
		return http.StatusBadRequest
	case errdefs.IsConflict(err), errdefs.IsAlreadyExists(err):
		return http.StatusConflict
	case errdefs.IsUnauthorized(err):
		return http.StatusUnauthorized
	case errdefs.IsUnavailable(err):
		return http.StatusServiceUnavailable
	case errdefs.IsPermissionDenied(err):
		return http.StatusForbidden
	case errdefs.IsNotModified(err):
		return http.StatusNotModified
	case errdefs.IsNotImplemented(err):
		return http.StatusNotImplemented
	default:
		return http.StatusInternalServerError
	}
}

// writeError answers a request with the status of err and docker's error
// body, {"message":"..."}. A 304 carries no body.
func writeError(w http.ResponseWriter, err error) {
	status := statusFromError(err)
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, &common.ErrorResponse{Message: err.Error()})
}

// streamErrorMessage is how docker reports an error inside a JSON progress
// stream once the 200 has been sent: both the structured errorDetail that
// jsonmessage reads and the legacy "error" string older clients print.
type streamErrorMessage struct {
	ErrorDetail *jsonstream.Error `json:"errorDetail"`
	Error       string            `json:"error"`
}

// writeStreamError appends err to a JSON message stream.
func writeStreamError(w http.ResponseWriter, err error) error {
	msg := err.Error()
	return json.NewEncoder(w).Encode(&streamErrorMessage{
		ErrorDetail: &jsonstream.Error{Message: msg},
		Error:       msg,
	})
}
