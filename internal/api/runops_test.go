package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// The fake's pause, update, top and stats: a container records its paused
// state and its last update; top and stats answer from its fields.

func (f *fakeBackend) ContainerPause(ctx context.Context, name string) error {
	return f.setPaused(name, true)
}

func (f *fakeBackend) ContainerUnpause(ctx context.Context, name string) error {
	return f.setPaused(name, false)
}

func (f *fakeBackend) setPaused(name string, paused bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return err
	}
	if !c.running {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not running", c.id))
	}
	if c.paused == paused {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is paused: %v", c.id, paused))
	}
	c.paused = paused
	return nil
}

func (f *fakeBackend) ContainerUpdate(ctx context.Context, name string, req *container.UpdateConfig) (container.UpdateResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return container.UpdateResponse{}, err
	}
	c.hostConfig.Resources = req.Resources
	return container.UpdateResponse{}, nil
}

func (f *fakeBackend) ContainerTop(ctx context.Context, name, psArgs string) (*container.TopResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return nil, err
	}
	if !c.running {
		return nil, errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is not running", c.id))
	}
	return &container.TopResponse{Titles: []string{"PID", "CMD"}, Processes: [][]string{{"1", psArgs}}}, nil
}

func (f *fakeBackend) ContainerStats(ctx context.Context, name string, stream, oneShot bool, emit func(*container.StatsResponse) error) error {
	f.mu.Lock()
	c, err := f.containerLocked(name)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	for i := 1; ; i++ {
		s := &container.StatsResponse{ID: c.id, Name: "/" + c.name, NumProcs: uint32(i)}
		if !oneShot {
			s.PreCPUStats.SystemUsage = 1
		}
		if err := emit(s); err != nil || !stream {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestPauseUpdateTop(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	c := env.client
	env.fake.addImage("busybox")
	createContainer(t, env, "p", "busybox", []string{"sleep"}, false)

	if _, err := c.ContainerPause(ctx, "p", client.ContainerPauseOptions{}); !errdefs.IsConflict(err) {
		t.Errorf("pause of a created container: %v", err)
	}
	if _, err := c.ContainerStart(ctx, "p", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerPause(ctx, "p", client.ContainerPauseOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerPause(ctx, "p", client.ContainerPauseOptions{}); !errdefs.IsConflict(err) {
		t.Errorf("second pause: %v", err)
	}
	if _, err := c.ContainerUnpause(ctx, "p", client.ContainerUnpauseOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerPause(ctx, "nope", client.ContainerPauseOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("pause of an unknown container: %v", err)
	}

	if _, err := c.ContainerUpdate(ctx, "p", client.ContainerUpdateOptions{Resources: &container.Resources{Memory: 64 << 20}}); err != nil {
		t.Fatal(err)
	}
	insp, err := c.ContainerInspect(ctx, "p", client.ContainerInspectOptions{})
	if err != nil || insp.Container.HostConfig.Memory != 64<<20 {
		t.Errorf("update not applied: %v %+v", err, insp.Container.HostConfig.Resources)
	}
	resp := env.do(t, http.MethodPost, "/v1.50/containers/p/update", "application/json", []byte("{"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("update with bad JSON: %d", resp.StatusCode)
	}
	// as dockerd's ReadJSON: nothing may follow the JSON, and the body
	// must not claim another type
	resp = env.do(t, http.MethodPost, "/v1.50/containers/p/update", "application/json", []byte(`{"Memory":1} {"Memory":2}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("update with content after the JSON: %d", resp.StatusCode)
	}
	resp = env.do(t, http.MethodPost, "/v1.50/containers/p/update", "text/plain", []byte(`{}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("update with a text body: %d", resp.StatusCode)
	}

	top, err := c.ContainerTop(ctx, "p", client.ContainerTopOptions{Arguments: []string{"aux"}})
	if err != nil || len(top.Processes) != 1 || top.Processes[0][1] != "aux" {
		t.Errorf("top: %v %+v", err, top)
	}
}

func TestStatsQuery(t *testing.T) {
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "s", "busybox", []string{"sleep"}, false)

	decode := func(t *testing.T, path string, n int) []container.StatsResponse {
		t.Helper()
		resp := env.do(t, http.MethodGet, path, "", nil)
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		var out []container.StatsResponse
		sc := bufio.NewScanner(resp.Body)
		for len(out) < n && sc.Scan() {
			var s container.StatsResponse
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatalf("%s: %v in %q", path, err, sc.Text())
			}
			out = append(out, s)
		}
		return out
	}
	if got := decode(t, "/v1.50/containers/s/stats?stream=false", 5); len(got) != 1 || got[0].PreCPUStats.SystemUsage != 1 || got[0].Name != "/s" {
		t.Errorf("stream=false: %+v", got)
	}
	if got := decode(t, "/v1.50/containers/s/stats?stream=false&one-shot=true", 5); len(got) != 1 || got[0].PreCPUStats.SystemUsage != 0 {
		t.Errorf("one-shot: %+v", got)
	}
	// one-shot means nothing while streaming
	if got := decode(t, "/v1.50/containers/s/stats?one-shot=true", 3); len(got) != 3 || got[2].NumProcs != 3 || got[2].PreCPUStats.SystemUsage != 1 {
		t.Errorf("stream: %+v", got)
	}
	resp := env.do(t, http.MethodGet, "/v1.50/containers/nope/stats", "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown container: %d", resp.StatusCode)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("error content type %q", resp.Header.Get("Content-Type"))
	}
}
