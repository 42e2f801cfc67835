//go:build linux

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/berth-project/berth/internal/testutil"
)

// TestDisconnectLeavesNoGoroutine drops the client in the middle of a
// pull, a build and an attach. Each time berthd stops the work the client
// asked for (the registry sees its layer download end, the build's RUN
// process ends, the container runs on), and its goroutines and fds come
// back to what they were before the request.
func TestDisconnectLeavesNoGoroutine(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	t.Run("pull", func(t *testing.T) { disconnectMidPull(t, d) })
	t.Run("attach", func(t *testing.T) { disconnectMidAttach(t, d) })
	t.Run("build", func(t *testing.T) { disconnectMidBuild(t, d) })
}

// stallingRegistry is an in-process registry on 127.0.0.1 holding
// <host>/stall:latest, whose layer download sends its first bytes and
// then stalls until the puller goes away.
type stallingRegistry struct {
	srv     *httptest.Server
	ref     string
	started chan struct{} // closed when the layer download has begun
	gone    chan struct{} // closed when the puller has dropped it
}

func startStallingRegistry(t *testing.T) *stallingRegistry {
	t.Helper()
	img, err := random.Image(4<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	layer, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	r := &stallingRegistry{started: make(chan struct{}), gone: make(chan struct{})}
	inner := registry.New(registry.Logger(nilLogger()))
	var once sync.Once
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/blobs/"+layer.String()) {
			inner.ServeHTTP(w, req)
			return
		}
		size, _ := layers[0].Size()
		w.Header().Set("Content-Length", fmt.Sprint(size))
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, 64<<10))
		w.(http.Flusher).Flush()
		once.Do(func() { close(r.started) })
		<-req.Context().Done()
		close(r.gone)
	}))
	t.Cleanup(r.srv.Close)
	host := strings.TrimPrefix(r.srv.URL, "http://")
	r.ref = host + "/stall:latest"
	// the upload goes to the inner registry: only downloads stall
	up := httptest.NewServer(inner)
	defer up.Close()
	upRef, err := name.ParseReference(strings.TrimPrefix(up.URL, "http://")+"/stall:latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(upRef, img); err != nil {
		t.Fatal(err)
	}
	return r
}

func disconnectMidPull(t *testing.T, d *testutil.Daemon) {
	reg := startStallingRegistry(t)
	base := idleUsage(t, d)
	c := d.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := c.ImagePull(ctx, reg.ref, client.ImagePullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, res)
	select {
	case <-reg.started:
	case <-time.After(60 * time.Second):
		t.Fatal("berthd did not start downloading the layer")
	}
	cancel() // the client goes away
	res.Close()
	c.Close()
	select {
	case <-reg.gone:
	case <-time.After(20 * time.Second):
		t.Fatal("berthd went on downloading the layer after its client left")
	}
	reg.srv.CloseClientConnections() // berthd's idle connections to the registry
	after := d.WaitSettled(t, base, 1, 30*time.Second)
	t.Logf("berthd before the pull %v, after %v", base, after)
	if r := d.Berth(t, "image", "inspect", reg.ref); r.ExitCode == 0 {
		t.Errorf("the abandoned pull stored %s", reg.ref)
	}
}

func disconnectMidAttach(t *testing.T, d *testutil.Daemon) {
	ctr := unique("attach-drop")
	d.Berth(t, "run", "-d", "--name", ctr, "--network", "none", "busybox", "sh", "-c", "while true; do echo tick; sleep 0.1; done").Success(t)
	defer d.Berth(t, "rm", "-f", ctr)
	base := idleUsage(t, d)
	for i := range 3 {
		c := d.Client(t)
		att, err := c.ContainerAttach(context.Background(), ctr, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		if _, err := io.ReadAtLeast(att.Reader, buf, 16); err != nil {
			t.Fatalf("attach %d read: %v", i, err)
		}
		att.Close() // the client goes away mid-stream
		c.Close()
	}
	after := d.WaitSettled(t, base, 1, 30*time.Second)
	t.Logf("berthd before the attaches %v, after %v", base, after)
	if got := d.Berth(t, "inspect", "-f", "{{.State.Running}}", ctr).Success(t).Out(); got != "true" {
		t.Errorf("the container is not running after its attach clients left: %s", got)
	}
}

func disconnectMidBuild(t *testing.T, d *testutil.Daemon) {
	// a first build starts BuildKit, whose goroutines stay
	c := d.Client(t)
	warm := unique("warm")
	classicBuild(t, c, context.Background(), "FROM busybox\nRUN true\n", warm, "")
	d.Berth(t, "rmi", warm)
	c.Close()
	base := idleUsage(t, d)

	c = d.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleep := fmt.Sprintf("sleep %d", 5000+time.Now().Nanosecond()%1000)
	tag := unique("dropped")
	classicBuild(t, c, ctx, "FROM busybox\nRUN echo started && "+sleep+"\n", tag, "started\n")
	cancel() // the client goes away
	c.Close()
	waitFor(t, 30*time.Second, "the abandoned build's RUN to end", func() bool {
		out, _ := exec.Command("pgrep", "-f", sleep).Output()
		return len(bytes.TrimSpace(out)) == 0
	})
	after := d.WaitSettled(t, base, 1, 60*time.Second)
	t.Logf("berthd before the build %v, after %v", base, after)
	if r := d.Berth(t, "image", "inspect", tag); r.ExitCode == 0 {
		t.Errorf("the abandoned build tagged %s", tag)
	}
}

// classicBuild runs a classic build of dockerfile, reading its stream to its end,
// or, when until is not "", until a stream line equals it.
func classicBuild(t *testing.T, c *client.Client, ctx context.Context, dockerfile, tag, until string) {
	t.Helper()
	res, err := c.ImageBuild(ctx, contextTar(t, map[string]string{"Dockerfile": dockerfile}),
		client.ImageBuildOptions{Tags: []string{tag}, NoCache: true, Remove: true})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var m buildMessage
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) && until == "" {
			return
		}
		if err != nil {
			t.Fatalf("build stream: %v", err)
		}
		if m.Error != "" {
			t.Fatalf("build failed: %s", m.Error)
		}
		if until != "" && m.Stream == until {
			return
		}
	}
}

// nilLogger silences the in-process registry.
func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }
