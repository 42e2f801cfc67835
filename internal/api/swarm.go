package api

import (
	"fmt"
	"net/http"

	"github.com/containerd/errdefs"
)

// berth has no swarm mode and no managed plugins. Clients still call these
// endpoints (docker-compose, SDKs' cleanup code, `docker info`), and a 404
// for the route breaks them, so they are answered as a docker engine that
// is not in a swarm and has no plugin installed answers them.

// errNoManager is dockerd's answer to swarm requests on a node that is not
// a swarm manager (daemon/cluster: errNoManager, a 503).
var errNoManager = errdefs.ErrUnavailable.WithMessage(`This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`)

// errNoSwarm is dockerd's answer to leaving or unlocking a swarm the node
// is not part of.
var errNoSwarm = errdefs.ErrUnavailable.WithMessage("This node is not part of a swarm")

// swarmRoutes registers /swarm, /nodes, /services, /tasks, /secrets,
// /configs and /plugins.
func (s *Server) swarmRoutes() {
	for _, prefix := range []string{"/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs"} {
		s.handle(prefix, noManager)
		s.handle(prefix+"/", noManager)
	}
	s.handle("POST /swarm/leave", noSwarm)
	s.handle("POST /swarm/unlock", noSwarm)
	s.handle("POST /swarm/init", notImplementedSwarm)
	s.handle("POST /swarm/join", notImplementedSwarm)

	s.handle("GET /plugins", s.pluginList)
	s.handle("/plugins/{name...}", pluginNotFound)
	s.handle("POST /plugins/pull", notImplementedPlugins)
	s.handle("POST /plugins/create", notImplementedPlugins)
	s.handle("GET /plugins/privileges", notImplementedPlugins)
}

func noManager(http.ResponseWriter, *http.Request) error { return errNoManager }

func noSwarm(http.ResponseWriter, *http.Request) error { return errNoSwarm }

func notImplementedSwarm(http.ResponseWriter, *http.Request) error {
	return errdefs.ErrNotImplemented.WithMessage("berth does not support swarm mode")
}

func notImplementedPlugins(http.ResponseWriter, *http.Request) error {
	return errdefs.ErrNotImplemented.WithMessage("berth does not support managed plugins")
}

// pluginList answers GET /plugins: no plugin is installed.
func (s *Server) pluginList(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, []struct{}{})
}

// pluginNotFound answers every request about one plugin
// (/plugins/{name}/json, DELETE /plugins/{name}, .../enable...) as dockerd
// does for a plugin it does not have. The name is the path without the
// action, which may itself contain slashes ("vieux/sshfs:latest").
func pluginNotFound(_ http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if r.Method != http.MethodDelete {
		if n, _ := splitImageAction(name); n != "" {
			name = n
		}
	}
	return errdefs.ErrNotFound.WithMessage(fmt.Sprintf("plugin %q not found", name))
}
