//go:build linux

package integration

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/filesync"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/tonistiigi/fsutil"
)

// TestBuildClassicVersion2Session drives POST /build?version=2 as the docker
// CLI 20.10 does with DOCKER_BUILDKIT=1, from Go, so that it runs where that
// CLI is not installed: the client opens a session over POST /session that
// serves the context, then asks for the build with the session's id. The
// answer streams BuildKit's trace and the image id as dockerd's does.
func TestBuildClassicVersion2Session(t *testing.T) {
	d := sharedDaemon(t)
	mc := d.Client(t)
	name := unique("v2go")
	removeImageOnCleanup(t, d, name)
	dir := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nCOPY greeting /greeting\nRUN cat /greeting\n",
		"greeting":   "hello over the session\n",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := session.NewSession(ctx, "berth-integration")
	if err != nil {
		t.Fatal(err)
	}
	sess.Allow(filesync.NewFSSyncProvider(filesync.StaticDirSource{"context": fs, "dockerfile": fs}))
	go sess.Run(ctx, func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
		return mc.DialHijack(ctx, "/session", proto, meta)
	})
	defer sess.Close()

	res, err := mc.ImageBuild(ctx, nil, client.ImageBuildOptions{
		Version:       build.BuilderBuildKit,
		SessionID:     sess.ID(),
		RemoteContext: "client-session",
		Tags:          []string{name},
		BuildID:       unique("v2go-build"),
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := readBuild(t, res.Body)
	res.Body.Close()
	var id string
	traces := 0
	for _, m := range msgs {
		if m.ErrorDetail != nil {
			t.Fatalf("build failed: %s", m.ErrorDetail.Message)
		}
		switch m.ID {
		case "moby.buildkit.trace":
			traces++
		case "moby.image.id":
			var aux struct{ ID string }
			if err := json.Unmarshal(m.Aux, &aux); err != nil {
				t.Fatal(err)
			}
			id = aux.ID
		}
	}
	if traces == 0 {
		t.Error("no moby.buildkit.trace message in the stream")
	}
	if want := inspect(t, d, name, "{{.Id}}"); id != want {
		t.Errorf("moby.image.id %q, want the tagged image %s", id, want)
	}
	if out := d.Berth(t, "run", "--rm", name, "cat", "/greeting").Success(t).Out(); !strings.Contains(out, "hello over the session") {
		t.Errorf("built image: %q", out)
	}
}
