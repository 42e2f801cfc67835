package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// createContainer creates a container through the moby client.
func createContainer(t *testing.T, env *testEnv, name, image string, cmd []string, tty bool) string {
	t.Helper()
	resp, err := env.client.ContainerCreate(testCtx(t), client.ContainerCreateOptions{
		Name:   name,
		Config: &container.Config{Image: image, Cmd: cmd, Tty: tty, OpenStdin: true, AttachStdin: true},
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return resp.ID
}

func TestContainerLifecycle(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	c := env.client
	env.fake.addImage("busybox")

	id := createContainer(t, env, "web", "busybox", []string{"sleep"}, false)
	if len(id) != 64 {
		t.Fatalf("id %q", id)
	}

	_, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "web", Config: &container.Config{Image: "busybox"}})
	if !errdefs.IsConflict(err) || !strings.Contains(err.Error(), `The container name "/web" is already in use`) {
		t.Errorf("duplicate name: %v", err)
	}
	_, err = c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: "nope"}})
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "No such image: nope") {
		t.Errorf("missing image: %v", err)
	}

	list, err := c.ContainerList(ctx, client.ContainerListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("running list: %v %+v", err, list.Items)
	}
	list, err = c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", "web")})
	if err != nil || len(list.Items) != 1 || list.Items[0].Names[0] != "/web" || list.Items[0].State != container.StateCreated {
		t.Fatalf("list: %v %+v", err, list.Items)
	}
	list, err = c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", "other")})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("filtered list: %v %+v", err, list.Items)
	}

	if _, err := c.ContainerStart(ctx, "web", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	// Starting a running container is a 304 with no body, which the
	// client treats as success.
	resp := env.do(t, http.MethodPost, "/v1.50/containers/web/start", "", nil)
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("second start: %d %q", resp.StatusCode, body)
	}
	if _, err := c.ContainerStart(ctx, "web", client.ContainerStartOptions{}); err != nil {
		t.Errorf("client start of a running container: %v", err)
	}

	insp, err := c.ContainerInspect(ctx, "web", client.ContainerInspectOptions{Size: true})
	if err != nil || !insp.Container.State.Running || insp.Container.Name != "/web" || insp.Container.SizeRw == nil {
		t.Fatalf("inspect: %v %+v", err, insp.Container)
	}

	if _, err := c.ContainerResize(ctx, "web", client.ContainerResizeOptions{Height: 40, Width: 120}); err != nil {
		t.Errorf("resize: %v", err)
	}
	if resp := env.do(t, http.MethodPost, "/containers/web/resize?h=x&w=1", "", nil); resp.StatusCode != 400 {
		t.Errorf("bad resize: %d", resp.StatusCode)
	}

	if _, err := c.ContainerRemove(ctx, "web", client.ContainerRemoveOptions{}); !errdefs.IsConflict(err) {
		t.Errorf("remove running: %v", err)
	}

	timeout := 1
	if _, err := c.ContainerStop(ctx, "web", client.ContainerStopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	resp = env.do(t, http.MethodPost, "/containers/web/stop?t=1", "", nil)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("second stop: %d", resp.StatusCode)
	}
	if resp := env.do(t, http.MethodPost, "/containers/web/stop?t=soon", "", nil); resp.StatusCode != 400 {
		t.Errorf("bad t: %d", resp.StatusCode)
	}

	if _, err := c.ContainerRestart(ctx, "web", client.ContainerRestartOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerKill(ctx, "web", client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerKill(ctx, "web", client.ContainerKillOptions{}); !errdefs.IsConflict(err) {
		t.Errorf("kill stopped: %v", err)
	}
	if _, err := c.ContainerRename(ctx, "web", client.ContainerRenameOptions{NewName: "api"}); err != nil {
		t.Fatal(err)
	}
	insp, err = c.ContainerInspect(ctx, "api", client.ContainerInspectOptions{})
	if err != nil || insp.Container.State.ExitCode != 137 || insp.Container.State.Status != container.StateExited {
		t.Fatalf("inspect after kill: %v %+v", err, insp.Container.State)
	}

	if _, err := c.ContainerRemove(ctx, "api", client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ContainerInspect(ctx, "api", client.ContainerInspectOptions{})
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "No such container: api") {
		t.Errorf("inspect removed: %v", err)
	}
	resp = env.do(t, http.MethodGet, "/containers/api/json", "", nil)
	if resp.StatusCode != 404 || errorMessage(t, resp) != "No such container: api" {
		t.Errorf("raw inspect removed: %d", resp.StatusCode)
	}
}

func TestContainerListFilters(t *testing.T) {
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "one", "busybox", nil, false)
	createContainer(t, env, "two", "busybox", nil, false)
	tests := []struct {
		query  string
		status int
		count  int
	}{
		{"all=1", 200, 2},
		{"all=0", 200, 0},
		{"all=false", 200, 0},
		{"all=1&limit=1", 200, 1},
		{"all=1&filters=" + url.QueryEscape(`{"name":{"one":true}}`), 200, 1},
		{"all=1&filters=" + url.QueryEscape(`{"name":["two"]}`), 200, 1},
		{"filters=" + url.QueryEscape(`{"status":["created"]}`), 200, 2},
		{"all=1&filters=" + url.QueryEscape(`{"name":`), 400, 0},
		{"all=1&filters=" + url.QueryEscape(`["name"]`), 400, 0},
		{"all=1&limit=many", 400, 0},
	}
	for _, tt := range tests {
		resp := env.do(t, http.MethodGet, "/containers/json?"+tt.query, "", nil)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.query, resp.StatusCode, tt.status)
			continue
		}
		if tt.status != 200 {
			continue
		}
		var list []container.Summary
		raw, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(raw, &list); err != nil || len(list) != tt.count {
			t.Errorf("%s: %v, got %s, want %d items", tt.query, err, raw, tt.count)
		}
		if tt.count == 0 && strings.TrimSpace(string(raw)) != "[]" {
			t.Errorf("%s: empty list encoded as %s, want []", tt.query, raw)
		}
	}
}

func TestCreateBadRequests(t *testing.T) {
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	tests := []struct {
		name, contentType string
		body              []byte
		want              string
	}{
		{"malformed", "application/json", []byte("xyz"), "invalid character 'x' looking for beginning of value"},
		{"wrong type", "application/json", []byte(`{"Image": 5}`), "cannot unmarshal number"},
		{"truncated", "application/json", []byte(`{"Image": "busybox"`), "unexpected EOF"},
		{"trailing", "application/json", []byte(`{"Image": "busybox"} {}`), "unexpected content after JSON"},
		{"empty body", "application/json", nil, "config cannot be empty in order to create a container"},
		{"empty object", "application/json", []byte(`{}`), "config cannot be empty in order to create a container"},
		{"not json", "text/plain", []byte(`{"Image":"busybox"}`), "unsupported Content-Type header (text/plain)"},
	}
	for _, tt := range tests {
		resp := env.do(t, http.MethodPost, "/v1.50/containers/create", tt.contentType, tt.body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tt.name, resp.StatusCode)
			continue
		}
		if msg := errorMessage(t, resp); !strings.Contains(msg, tt.want) {
			t.Errorf("%s: message %q, want it to contain %q", tt.name, msg, tt.want)
		}
		// The server keeps answering.
		if _, err := env.client.Ping(testCtx(t), client.PingOptions{}); err != nil {
			t.Fatalf("%s: ping afterwards: %v", tt.name, err)
		}
	}
	resp := env.do(t, http.MethodPost, "/containers/create?name=ok", "application/json", []byte(`{"Image":"busybox","Cmd":["echo","hi"]}`))
	var created container.CreateResponse
	if err := json.NewDecoder(resp.Body).Decode(&created); resp.StatusCode != 201 || err != nil || created.ID == "" || created.Warnings == nil {
		t.Errorf("valid create: %d %v %+v", resp.StatusCode, err, created)
	}
}

func TestContainerWait(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "w", "busybox", []string{"sleep"}, false)

	// The created container is not running: not-running is met at once.
	res := env.client.ContainerWait(ctx, "w", client.ContainerWaitOptions{})
	select {
	case r := <-res.Result:
		if r.StatusCode != 0 || r.Error != nil {
			t.Errorf("wait created: %+v", r)
		}
	case err := <-res.Error:
		t.Fatal(err)
	}

	if _, err := env.client.ContainerStart(ctx, "w", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	// The 200 arrives before the container exits: the wait is registered.
	resp := env.do(t, http.MethodPost, "/containers/w/wait?condition=next-exit", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("wait: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	removed := env.client.ContainerWait(ctx, "w", client.ContainerWaitOptions{Condition: container.WaitConditionRemoved})
	if _, err := env.client.ContainerStop(ctx, "w", client.ContainerStopOptions{}); err != nil {
		t.Fatal(err)
	}
	var got container.WaitResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.StatusCode != 143 {
		t.Errorf("wait result: %v %+v", err, got)
	}
	if _, err := env.client.ContainerRemove(ctx, "w", client.ContainerRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-removed.Result:
		if r.StatusCode != 143 {
			t.Errorf("wait removed: %+v", r)
		}
	case err := <-removed.Error:
		t.Fatal(err)
	}

	if resp := env.do(t, http.MethodPost, "/containers/w/wait", "", nil); resp.StatusCode != 404 {
		t.Errorf("wait missing: %d", resp.StatusCode)
	}
	if resp := env.do(t, http.MethodPost, "/containers/w/wait?condition=soon", "", nil); resp.StatusCode != 400 {
		t.Errorf("bad condition: %d", resp.StatusCode)
	}
}

func TestWaitEndsOnShutdown(t *testing.T) {
	env := newTestEnv(t)
	env.fake.addImage("busybox")
	createContainer(t, env, "w", "busybox", []string{"sleep"}, false)
	if _, err := env.client.ContainerStart(testCtx(t), "w", client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	resp := env.do(t, http.MethodPost, "/containers/w/wait", "", nil)
	done := make(chan container.WaitResponse, 1)
	go func() {
		var got container.WaitResponse
		json.NewDecoder(resp.Body).Decode(&got)
		done <- got
	}()
	start := time.Now()
	if err := env.server.Shutdown(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got.Error == nil {
			t.Errorf("wait after shutdown: %+v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not end on shutdown")
	}
	if time.Since(start) > 3*time.Second {
		t.Error("shutdown waited for the long poll")
	}
}
