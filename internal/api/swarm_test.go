package api

import (
	"io"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

func TestSwarmAndPluginRoutes(t *testing.T) {
	env := newTestEnv(t)
	noManagerMsg := `This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`
	for _, tc := range []struct {
		method, path string
		status       int
		msg          string // "" for a 200
	}{
		{"GET", "/swarm", 503, noManagerMsg},
		{"GET", "/v1.41/swarm", 503, noManagerMsg},
		{"GET", "/swarm/unlockkey", 503, noManagerMsg},
		{"POST", "/swarm/update", 503, noManagerMsg},
		{"POST", "/swarm/leave", 503, "This node is not part of a swarm"},
		{"GET", "/nodes", 503, noManagerMsg},
		{"GET", "/nodes/abc", 503, noManagerMsg},
		{"GET", "/services", 503, noManagerMsg},
		{"POST", "/services/create", 503, noManagerMsg},
		{"GET", "/services/web/logs", 503, noManagerMsg},
		{"GET", "/tasks", 503, noManagerMsg},
		{"GET", "/secrets", 503, noManagerMsg},
		{"DELETE", "/secrets/s1", 503, noManagerMsg},
		{"GET", "/configs", 503, noManagerMsg},
		{"POST", "/configs/create", 503, noManagerMsg},
		{"GET", "/plugins", 200, ""},
		{"GET", "/plugins/x/json", 404, `plugin "x" not found`},
		{"GET", "/plugins/vieux/sshfs:latest/json", 404, `plugin "vieux/sshfs:latest" not found`},
		{"DELETE", "/plugins/x", 404, `plugin "x" not found`},
		{"POST", "/plugins/x/enable", 404, `plugin "x" not found`},
		{"POST", "/plugins/x/disable", 404, `plugin "x" not found`},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp := env.do(t, tc.method, tc.path, "", nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.msg == "" {
				body, _ := io.ReadAll(resp.Body)
				if string(body) != "[]\n" && string(body) != "[]" {
					t.Errorf("body %q, want []", body)
				}
				return
			}
			if got := errorMessage(t, resp); got != tc.msg {
				t.Errorf("message %q, want %q", got, tc.msg)
			}
		})
	}
	// the moby client maps the 503 back to a class clients test for
	if _, err := env.client.SwarmInspect(testCtx(t), client.SwarmInspectOptions{}); !errdefs.IsUnavailable(err) {
		t.Errorf("SwarmInspect: %v, want an unavailable error", err)
	}
}
