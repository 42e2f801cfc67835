package daemon

import (
	"context"
	"sync"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
)

// TestCreateGeneratedNamesNeverCollide creates containers without names
// all at once, each held a moment in PrepareRootfs (the window in which a
// drawn name was reserved but its container not yet indexed): every create
// succeeds and no name is given twice. Drawing the name against the
// indexed containers only made such bursts fail with docker's "Conflict.
// The container name ... is already in use".
func TestCreateGeneratedNamesNeverCollide(t *testing.T) {
	e := newEnv(t)
	e.images.onPrepare = func() { time.Sleep(20 * time.Millisecond) }
	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.d.ContainerCreate(context.Background(), "", &containertypes.CreateRequest{
				Config:     &containertypes.Config{Image: "busybox", Cmd: []string{"true"}},
				HostConfig: &containertypes.HostConfig{NetworkMode: "none"},
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	seen := map[string]bool{}
	for _, c := range e.d.containers.List() {
		if seen[c.Name] {
			t.Fatalf("name %s given twice", c.Name)
		}
		seen[c.Name] = true
	}
	if len(seen) != n {
		t.Fatalf("%d containers, want %d", len(seen), n)
	}
}
