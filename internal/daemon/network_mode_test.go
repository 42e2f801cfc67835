package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	networktypes "github.com/moby/moby/api/types/network"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// netnsOf is the network namespace path of id's OCI spec ("" for a new one,
// "host" for none at all).
func netnsOf(t *testing.T, e *env, id string) string {
	t.Helper()
	s := e.spec(t, id)
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			return ns.Path
		}
	}
	return "host"
}

func TestNoneAndHostNetworkingStartNoNetworkManager(t *testing.T) {
	e := newEnv(t)
	none := e.run(t, "none", nil)
	host := e.run(t, "host", func(r *containertypes.CreateRequest) { r.HostConfig.NetworkMode = "host" })
	if e.netStarts != 0 {
		t.Errorf("the network manager was started %d times for none and host containers", e.netStarts)
	}
	if ns := netnsOf(t, e, none); ns != "" {
		t.Errorf("--network none: namespace %q, want a new empty one", ns)
	}
	if ns := netnsOf(t, e, host); ns != "host" {
		t.Errorf("--network host: namespace %q, want the host's", ns)
	}
}

func TestBridgeNetworkingConnectsEveryNetwork(t *testing.T) {
	e := newEnv(t)
	ports := networktypes.PortMap{networktypes.MustParsePort("80/tcp"): {{HostPort: "8080"}}}
	id := e.run(t, "web", func(r *containertypes.CreateRequest) {
		r.HostConfig.NetworkMode = "front"
		r.HostConfig.PortBindings = ports
		r.NetworkingConfig = &networktypes.NetworkingConfig{EndpointsConfig: map[string]*networktypes.EndpointSettings{
			"front": {Aliases: []string{"www"}},
			"back":  {},
		}}
	})
	if e.netStarts != 1 {
		t.Errorf("network manager started %d times, want once", e.netStarts)
	}
	calls := e.nets.calls()
	if len(calls) != 2 || calls[0].net != "front" || calls[1].net != "back" {
		t.Fatalf("connected to %+v, want front then back", calls)
	}
	if len(calls[0].opts.PortBindings) != 1 || len(calls[1].opts.PortBindings) != 0 {
		t.Error("the ports must be published on the first network only")
	}
	if len(calls[0].opts.Aliases) != 1 || calls[0].opts.Aliases[0] != "www" || calls[0].opts.Name != "web" {
		t.Errorf("front endpoint options %+v, want name web and alias www", calls[0].opts)
	}
	if want := filepath.Join(e.nets.root, id); netnsOf(t, e, id) != want || calls[0].opts.NetNSPath != want {
		t.Errorf("namespace %q (endpoint %q), want the one the manager made, %q", netnsOf(t, e, id), calls[0].opts.NetNSPath, want)
	}
}

// An unknown network or container to join is found at start, not at
// create, as dockerd does: a create 404 reads to docker's CLI as a missing
// image (it says "Unable to find image" and pulls), and compose v1 and v5
// report a service they could not start.
func TestUnknownNetworkIsNotFoundAtStart(t *testing.T) {
	e := newEnv(t)
	for mode, want := range map[containertypes.NetworkMode]string{
		"nosuch":           "network nosuch not found",
		"container:nosuch": "No such container: nosuch",
	} {
		id := e.create(t, "web-"+strings.ReplaceAll(string(mode), ":", "-"), func(r *containertypes.CreateRequest) { r.HostConfig.NetworkMode = mode })
		err := e.d.ContainerStart(bg, id, "")
		if !errdefs.IsNotFound(err) || err.Error() != want {
			t.Errorf("start --network %s: %v, want a 404 %q", mode, err, want)
		}
	}
}

func TestContainerNetworkModeJoinsRunningContainer(t *testing.T) {
	e := newEnv(t)
	target := e.create(t, "db", nil)
	id := e.create(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.NetworkMode = "container:db" })
	wantClass(t, "join a container that does not run", e.d.ContainerStart(bg, id, ""), errdefs.IsConflict, "conflict")
	if err := e.d.ContainerStart(bg, target, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.d.ContainerStart(bg, id, ""); err != nil {
		t.Fatal(err)
	}
	pid := e.shim(target).Pid()
	if ns, want := netnsOf(t, e, id), fmt.Sprintf("/proc/%d/ns/net", pid); ns != want {
		t.Errorf("--network container:db: namespace %q, want %q", ns, want)
	}
}

func TestNetworkStateStartsManagerAtBoot(t *testing.T) {
	e := newEnv(t)
	if e.netStarts != 0 {
		t.Fatalf("a fresh daemon started networking")
	}
	if err := os.MkdirAll(filepath.Join(e.dataRoot, "network"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.reopen(t)
	if e.netStarts != 1 {
		t.Errorf("with network state on disk, the manager started %d times at boot, want once (to reconcile it)", e.netStarts)
	}
}

func TestExitReleasesNetworking(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.NetworkMode = "bridge" })
	e.shim(id).Exit(0)
	eventually(t, "the endpoints released", func() bool {
		e.nets.mu.Lock()
		defer e.nets.mu.Unlock()
		return len(e.nets.released) > 0 && e.nets.released[0] == id
	})
}
