package api

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestBuildKitEndpointRefusals: /grpc and /session answer a request they
// cannot serve with dockerd's status and message, and never with a 101
// followed by a closed connection: the grpc router's refusals are 500s,
// the session router's 400s, and a builder that refuses (here the fake's,
// which has none) answers before the upgrade.
func TestBuildKitEndpointRefusals(t *testing.T) {
	env := newTestEnv(t)
	for _, tc := range []struct {
		path, upgrade string
		status        int
		message       string
	}{
		{"/grpc", "", http.StatusInternalServerError, "no upgrade proto in request"},
		{"/grpc", "websocket", http.StatusInternalServerError, "protocol websocket not supported"},
		{"/grpc", "h2c", http.StatusNotImplemented, "not implemented"},
		{"/session", "", http.StatusBadRequest, "no upgrade proto in request"},
		{"/session", "websocket", http.StatusBadRequest, "protocol websocket not supported"},
		{"/session", "h2c", http.StatusBadRequest, "not implemented"},
	} {
		req, err := http.NewRequest(http.MethodPost, "http://docker"+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.upgrade != "" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", tc.upgrade)
		}
		resp, err := env.httpClient().Do(req)
		if err != nil {
			t.Fatalf("%s (Upgrade %q): %v", tc.path, tc.upgrade, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var msg struct{ Message string }
		_ = json.Unmarshal(body, &msg)
		if resp.StatusCode != tc.status || msg.Message != tc.message {
			t.Errorf("%s (Upgrade %q) = %d %s, want %d %q", tc.path, tc.upgrade, resp.StatusCode, body, tc.status, tc.message)
		}
	}
}
