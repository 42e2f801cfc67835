package daemon

import (
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/backend"
)

// ps does not wait for a container whose lock a long operation holds (a
// start runs the runtime under it): it lists its last saved state, as
// docker's ps does.
func TestListDoesNotWaitForALockedContainer(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "starting", nil)
	c, err := e.d.containers.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	c.Lock()
	defer c.Unlock()
	type result struct {
		rows []containertypes.Summary
		err  error
	}
	done := make(chan result, 1)
	go func() {
		rows, err := e.d.ContainerList(bg, backend.ContainerListOptions{All: true})
		done <- result{rows, err}
	}()
	select {
	case r := <-done:
		if r.err != nil || len(r.rows) != 1 || r.rows[0].ID != id || r.rows[0].State != containertypes.StateCreated {
			t.Fatalf("ps -a: %+v, %v; want the created container", r.rows, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ps -a waited for the container's lock")
	}
}
