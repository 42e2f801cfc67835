package daemon

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/network"
	"github.com/berth-project/berth/internal/shim"
)

func TestRestoreAdoptsLiveShim(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	pid := e.shim(id).Pid()
	e.reopen(t)
	if st := e.state(t, id); st.Status != containertypes.StateRunning || st.Pid != pid {
		t.Fatalf("after a daemon restart: %s pid %d, want running pid %d", st.Status, st.Pid, pid)
	}
	if n := len(e.launcher.Starts()); n != 1 {
		t.Errorf("%d shim starts, want 1: the running container is adopted, not started again", n)
	}
	e.shim(id).Exit(6)
	eventually(t, "the adopted container's exit", func() bool { return e.state(t, id).Status == containertypes.StateExited })
	if code := e.state(t, id).ExitCode; code != 6 {
		t.Errorf("exit code %d, want 6", code)
	}
}

func TestRestoreShimGoneUsesRecordedExit(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	if err := e.d.Close(); err != nil {
		t.Fatal(err)
	}
	e.launcher.Vanish(e.d.containerStateDir(id), &shim.ExitStatus{Code: 9, ExitedAt: time.Now().UTC()})
	e.open(t)
	if st := e.state(t, id); st.Status != containertypes.StateExited || st.ExitCode != 9 {
		t.Errorf("after a daemon restart: %s %d, want exited 9 (exit.json)", st.Status, st.ExitCode)
	}
	if _, err := os.Stat(e.d.containerStateDir(id)); !os.IsNotExist(err) {
		t.Errorf("the dead container's bundle is left (%v)", err)
	}
}

func TestRestoreShimGoneWithoutRecordIs255(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	if err := e.d.Close(); err != nil {
		t.Fatal(err)
	}
	e.launcher.Vanish(e.d.containerStateDir(id), nil)
	e.open(t)
	if st := e.state(t, id); st.Status != containertypes.StateExited || st.ExitCode != 255 {
		t.Errorf("after a daemon restart: %s %d, want exited 255", st.Status, st.ExitCode)
	}
}

func TestRestoreAppliesRestartPolicyToExitWhileDown(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) {
		r.HostConfig.RestartPolicy.Name = containertypes.RestartPolicyOnFailure
	})
	if err := e.d.Close(); err != nil {
		t.Fatal(err)
	}
	e.launcher.Vanish(e.d.containerStateDir(id), &shim.ExitStatus{Code: 2, ExitedAt: time.Now().UTC()})
	e.open(t)
	eventually(t, "the restart", func() bool { return len(e.launcher.Starts()) == 2 })
	eventually(t, "running", func() bool { return e.state(t, id).Status == containertypes.StateRunning })
}

func TestRestoreStartsOnBoot(t *testing.T) {
	e := newEnv(t)
	policy := func(p containertypes.RestartPolicyMode) func(*containertypes.CreateRequest) {
		return func(r *containertypes.CreateRequest) { r.HostConfig.RestartPolicy.Name = p }
	}
	always := e.run(t, "always", policy(containertypes.RestartPolicyAlways))
	unless := e.run(t, "unless", policy(containertypes.RestartPolicyUnlessStopped))
	none := e.run(t, "none", nil)
	for _, id := range []string{always, unless, none} {
		if _, err := e.d.ContainerStop(bg, id, "", intp(1)); err != nil {
			t.Fatal(err)
		}
	}
	e.reopen(t)
	for id, want := range map[string]containertypes.ContainerState{
		always: containertypes.StateRunning, // a manual stop lasts until the daemon restarts
		unless: containertypes.StateExited,
		none:   containertypes.StateExited,
	} {
		if st := e.state(t, id); st.Status != want {
			t.Errorf("%s after a daemon restart: %s, want %s", e.saved(t, id).Name, st.Status, want)
		}
	}
}

func TestRestoreRemovesIncompleteContainers(t *testing.T) {
	e := newEnv(t)
	half := filepath.Join(containersDir(e.dataRoot), "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef")
	if err := os.MkdirAll(filepath.Join(half, "rw"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.reopen(t)
	if _, err := os.Stat(half); !os.IsNotExist(err) {
		t.Errorf("a container created halfway is left (%v)", err)
	}
}

func TestRestoreFinishesInterruptedRemoval(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	c, _ := e.d.lookup(id)
	c.Lock()
	_ = c.State.SetRemoving()
	_ = c.Save(e.d.containerDataDir(id))
	c.Unlock()
	e.reopen(t)
	if _, err := e.d.lookup(id); err == nil {
		t.Error("a container whose removal was interrupted is back")
	}
	if _, err := os.Stat(e.d.containerDataDir(id)); !os.IsNotExist(err) {
		t.Errorf("its files are left (%v)", err)
	}
	e.create(t, "web", nil) // the name is free
}

func TestRestoreKeepsCreatedAndExited(t *testing.T) {
	e := newEnv(t)
	created := e.create(t, "created", nil)
	exited := e.run(t, "exited", nil)
	e.shim(exited).Exit(7)
	eventually(t, "the exit", func() bool { return e.state(t, exited).Status == containertypes.StateExited })
	e.reopen(t)
	if st := e.state(t, created); st.Status != containertypes.StateCreated {
		t.Errorf("created container restored as %s", st.Status)
	}
	if st := e.state(t, exited); st.Status != containertypes.StateExited || st.ExitCode != 7 {
		t.Errorf("exited container restored as %s %d, want exited 7", st.Status, st.ExitCode)
	}
}

// TestRestoreDiscardsHalfStartedContainer: a berthd killed inside a start,
// after the shim ran the process but before the record said running, leaves
// a live shim and the container's endpoints. The next berthd kills the
// process and releases the endpoints, so the container is whole and
// stopped, and the next start succeeds (it failed with "endpoint with name
// ... already exists" when the endpoints stayed).
func TestRestoreDiscardsHalfStartedContainer(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.NetworkMode = "bridge" })
	sh := e.shim(id)
	dir := e.d.containerDataDir(id)
	if err := e.d.Close(); err != nil {
		t.Fatal(err)
	}
	c := e.saved(t, id)
	c.State = container.State{Status: containertypes.StateCreated} // as saved before the start
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	// the network state the start wrote brings the networks up at boot
	if err := os.MkdirAll(filepath.Join(e.dataRoot, "network"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.open(t)
	if !sh.Exited() || !sh.ShutDown() {
		t.Errorf("half-started container's shim: exited %v, shut down %v; want killed and gone", sh.Exited(), sh.ShutDown())
	}
	e.nets.mu.Lock()
	released := slices.Clone(e.nets.released)
	e.nets.mu.Unlock()
	if !slices.Contains(released, id) {
		t.Errorf("endpoints released for %v, want %s's", released, id)
	}
	if st := e.state(t, id); st.Status != containertypes.StateCreated {
		t.Errorf("after the restart: %s, want created", st.Status)
	}
	if err := e.d.ContainerStart(context.Background(), id, ""); err != nil {
		t.Fatalf("start after the restart: %v", err)
	}
	if st := e.state(t, id); st.Status != containertypes.StateRunning {
		t.Errorf("after the start: %s, want running", st.Status)
	}
}

// TestRestoreDropsUnrecordedEndpoints: a berthd killed inside a network
// connect, after the endpoint was made but before the container's record
// listed the network, leaves an endpoint nothing shows; the next berthd
// disconnects it and keeps the recorded ones.
func TestRestoreDropsUnrecordedEndpoints(t *testing.T) {
	e := newEnv(t)
	for name, n := range e.nets.nets {
		n.ID = name + "-id"
	}
	id := e.run(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.NetworkMode = "bridge" })
	if err := e.d.Close(); err != nil {
		t.Fatal(err)
	}
	e.nets.eps = map[string][]*network.Endpoint{id: {
		{NetworkID: "bridge-id", NetworkName: "bridge", ContainerID: id},
		{NetworkID: "front-id", NetworkName: "front", ContainerID: id}, // the cut-short connect
	}}
	if err := os.MkdirAll(filepath.Join(e.dataRoot, "network"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.open(t)
	var left []string
	for _, ep := range e.nets.Endpoints(id) {
		left = append(left, ep.NetworkName)
	}
	if !slices.Equal(left, []string{"bridge"}) {
		t.Errorf("endpoints after the restart: %v, want only the recorded bridge", left)
	}
	if st := e.state(t, id); st.Status != containertypes.StateRunning {
		t.Errorf("after the restart: %s, want running", st.Status)
	}
}
