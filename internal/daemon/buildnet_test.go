package daemon

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/network"
)

// releaseErr tolerates the error of unmounting a namespace that the fake
// network manager never mounted, which only root may attempt.
func releaseErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && os.Geteuid() == 0 {
		t.Fatal(err)
	}
}

func TestBuildSandbox(t *testing.T) {
	e := newEnv(t)
	path, release, err := e.d.NewSandbox(context.Background(), "step1", "buildkitsandbox")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(e.execRoot, "netns", "build-step1"); path != want {
		t.Errorf("namespace %s, want %s", path, want)
	}
	calls := e.nets.calls()
	if len(calls) != 1 || calls[0].net != "bridge" || calls[0].opts.ContainerID != "build-step1" || calls[0].opts.NetNSPath != path {
		t.Fatalf("connects: %+v", calls)
	}
	if m, _ := e.d.buildNetworks(context.Background()); m != Networks(e.nets) {
		t.Errorf("build sandboxes go through %T: they would log network events", m)
	}
	releaseErr(t, release())
	if !slices.Contains(e.nets.released, "build-step1") {
		t.Errorf("released %q", e.nets.released)
	}
}

func TestRemoveSandboxes(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.execRoot, "netns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	container := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, name := range []string{"build-left", container} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	releaseErr(t, e.d.RemoveSandboxes(context.Background()))
	if !slices.Equal(e.nets.released, []string{"build-left"}) {
		t.Errorf("released %q, want only the build sandbox", e.nets.released)
	}
	if os.Geteuid() == 0 {
		if _, err := os.Stat(filepath.Join(dir, "build-left")); !os.IsNotExist(err) {
			t.Errorf("the build sandbox's namespace is still there: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, container)); err != nil {
		t.Errorf("a container's namespace went: %v", err)
	}
}

func TestRemoveSandboxesNone(t *testing.T) {
	e := newEnv(t)
	if err := e.d.RemoveSandboxes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.netStarts != 0 {
		t.Errorf("the network manager started with no sandbox to remove")
	}
}

func TestBuildSandboxesLate(t *testing.T) {
	var s BuildSandboxes
	if _, _, err := s.NewSandbox(context.Background(), "x", "h"); err == nil {
		t.Fatal("a sandbox before the daemon started")
	}
	e := newEnv(t)
	s.Set(e.d)
	_, release, err := s.NewSandbox(context.Background(), "x", "h")
	if err != nil {
		t.Fatal(err)
	}
	releaseErr(t, release())
	if lines, _ := s.SandboxHosts("x", "h"); lines != nil {
		t.Errorf("hosts lines of a fake endpoint: %q", lines)
	}
}

func TestBuildSandboxOnUserNetwork(t *testing.T) {
	e := newEnv(t)
	e.nets.nets["dev"] = &network.Network{ID: "0123456789ab0123456789ab", Name: "dev", Driver: network.DriverBridge}
	e.nets.nets["hostnet"] = &network.Network{ID: "ffff", Name: "hostnet", Driver: network.DriverHost}
	id, err := e.d.BuildNetwork("dev")
	if err != nil || id != "0123456789ab0123456789ab" {
		t.Fatalf("BuildNetwork(dev) = %q, %v", id, err)
	}
	if _, err := e.d.BuildNetwork("hostnet"); !errdefs.IsInvalidArgument(err) {
		t.Errorf("BuildNetwork of a host network: %v", err)
	}
	if _, err := e.d.BuildNetwork("nosuch"); !errdefs.IsNotFound(err) {
		t.Errorf("BuildNetwork of no network: %v", err)
	}
	_, release, err := e.d.NewSandboxOn(context.Background(), "dev", "s2", "0123456789ab")
	if err != nil {
		t.Fatal(err)
	}
	releaseErr(t, release())
	if calls := e.nets.calls(); len(calls) != 1 || calls[0].net != "dev" || calls[0].opts.ContainerID != "build-s2" {
		t.Errorf("connects: %+v", calls)
	}
}
