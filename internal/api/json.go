package api

import (
	"encoding/json"
	"net/http"
)

// writeJSON sends v as an application/json response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
