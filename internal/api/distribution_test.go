package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
)

// fakeDistribution records what the distribution handlers passed on.
type fakeDistribution struct {
	mu    sync.Mutex
	pulls []ImagePullOptions
	pushs []ImagePushOptions
}

// fakeDist holds each fake's distribution state (fakeBackend is shared
// with the other handler tests).
var (
	fakeDistMu sync.Mutex
	fakeDist   = map[*fakeBackend]*fakeDistribution{}
)

func (f *fakeBackend) dist() *fakeDistribution {
	fakeDistMu.Lock()
	defer fakeDistMu.Unlock()
	if fakeDist[f] == nil {
		fakeDist[f] = &fakeDistribution{}
	}
	return fakeDist[f]
}

func writeMessages(out io.Writer, msgs ...jsonstream.Message) error {
	for _, m := range msgs {
		if err := json.NewEncoder(out).Encode(m); err != nil {
			return err
		}
	}
	return nil
}

// ImagePull pretends to pull from localhost:5000; other images are not
// found (before any output), and "broken" ones fail in the stream.
func (f *fakeBackend) ImagePull(ctx context.Context, opts ImagePullOptions, out io.Writer) error {
	d := f.dist()
	d.mu.Lock()
	d.pulls = append(d.pulls, opts)
	d.mu.Unlock()
	image := opts.Image.String()
	if !strings.HasPrefix(image, "localhost:5000/") && !strings.Contains(image, "broken") {
		return errdefs.ErrNotFound.WithMessage("pull access denied for " + image + ", repository does not exist or may require 'docker login'")
	}
	if err := writeMessages(out, jsonstream.Message{ID: "latest", Status: "Pulling from library/x"}); err != nil {
		return err
	}
	if strings.Contains(image, "broken") {
		return errdefs.ErrInvalidArgument.WithMessage("filesystem layer verification failed for digest sha256:0123")
	}
	return writeMessages(out, jsonstream.Message{Status: "Status: Downloaded newer image for x:latest"})
}

// ImagePush pretends to push.
func (f *fakeBackend) ImagePush(ctx context.Context, opts ImagePushOptions, out io.Writer) error {
	d := f.dist()
	d.mu.Lock()
	d.pushs = append(d.pushs, opts)
	d.mu.Unlock()
	return writeMessages(out, jsonstream.Message{Status: "The push refers to repository [" + opts.Name + "]"})
}

// RegistryLogin accepts user "u" with password "p".
func (f *fakeBackend) RegistryLogin(ctx context.Context, auth registry.AuthConfig) (registry.AuthResponse, error) {
	if auth.Username != "u" || auth.Password != "p" {
		return registry.AuthResponse{}, errdefs.ErrUnauthenticated.WithMessage("login attempt to https://r/v2/ failed with status: 401 Unauthorized")
	}
	return registry.AuthResponse{Status: "Login Succeeded"}, nil
}

// DistributionInspect knows no image.
func (f *fakeBackend) DistributionInspect(ctx context.Context, name string, auth registry.AuthConfig) (*registry.DistributionInspect, error) {
	return nil, errdefs.ErrNotFound.WithMessage("manifest for " + name + " not found")
}

// ImagePrune deletes nothing.
func (f *fakeBackend) ImagePrune(ctx context.Context, filters Filters) (*image.PruneReport, error) {
	return &image.PruneReport{}, nil
}

func TestPullReference(t *testing.T) {
	tests := []struct{ from, tag, want string }{
		{"busybox", "", "docker.io/library/busybox:latest"},
		{"busybox", "1.36", "docker.io/library/busybox:1.36"},
		{"localhost:5000/a/b:t", "", "localhost:5000/a/b:t"},
		{"busybox", "sha256:" + strings.Repeat("a", 64), "docker.io/library/busybox@sha256:" + strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		got, err := pullReference(tt.from, tt.tag)
		if err != nil || got.String() != tt.want {
			t.Errorf("pullReference(%q, %q) = %v, %v; want %q", tt.from, tt.tag, got, err, tt.want)
		}
	}
	for _, bad := range []string{"UPPER", "a b", ""} {
		if _, err := pullReference(bad, ""); !errdefs.IsInvalidArgument(err) {
			t.Errorf("pullReference(%q): %v, want invalid argument", bad, err)
		}
	}
}

func TestImagePullThroughClient(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	auth := registry.AuthConfig{Username: "u", Password: "p"}
	enc, _ := json.Marshal(auth)
	resp, err := env.client.ImagePull(ctx, "localhost:5000/x", client.ImagePullOptions{RegistryAuth: base64URL(enc)})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp)
	resp.Close()
	if !strings.Contains(string(data), "Downloaded newer image") {
		t.Errorf("stream: %s", data)
	}
	pulls := env.fake.dist().pulls
	if len(pulls) != 1 || pulls[0].Image.String() != "localhost:5000/x:latest" || pulls[0].Auth.Username != "u" || pulls[0].Auth.Password != "p" {
		t.Errorf("pulls: %+v", pulls)
	}

	// An error before any output is an HTTP status; after, the stream's end.
	if _, err := env.client.ImagePull(ctx, "missing", client.ImagePullOptions{}); !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "pull access denied") {
		t.Errorf("missing: %v", err)
	}
	resp, err = env.client.ImagePull(ctx, "broken", client.ImagePullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = resp.Wait(ctx)
	resp.Close()
	if err == nil || !strings.Contains(err.Error(), "verification failed") {
		t.Errorf("broken: %v", err)
	}
	if r := env.do(t, http.MethodPost, "/images/create?fromImage=UPPER", "", nil); r.StatusCode != 400 {
		t.Errorf("invalid reference: %d", r.StatusCode)
	}
}

func base64URL(b []byte) string { return base64.URLEncoding.EncodeToString(b) }

func TestImagePushAuthAndLogin(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	enc, _ := json.Marshal(registry.AuthConfig{Username: "u", Password: "p"})
	resp, err := env.client.ImagePush(ctx, "localhost:5000/a/b:v1", client.ImagePushOptions{RegistryAuth: base64URL(enc)})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp)
	resp.Close()
	pushes := env.fake.dist().pushs
	if len(pushes) != 1 || pushes[0].Name != "localhost:5000/a/b" || pushes[0].Tag != "v1" || pushes[0].Auth.Username != "u" {
		t.Errorf("pushes: %+v", pushes)
	}
	res, err := env.client.RegistryLogin(ctx, client.RegistryLoginOptions{Username: "u", Password: "p", ServerAddress: "r"})
	if err != nil || res.Auth.Status != "Login Succeeded" {
		t.Errorf("login: %+v, %v", res, err)
	}
	if _, err := env.client.RegistryLogin(ctx, client.RegistryLoginOptions{Username: "u", Password: "bad"}); !errdefs.IsUnauthorized(err) {
		t.Errorf("bad login: %v", err)
	}
	if r := env.do(t, http.MethodPost, "/images/x/push", "", nil); r.StatusCode != 200 {
		t.Errorf("push without auth: %d", r.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://docker/images/create?fromImage=x", nil)
	req.Header.Set(registry.AuthHeader, "!!!not base64")
	bad, err := env.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	bad.Body.Close()
	if bad.StatusCode != 400 {
		t.Errorf("bad auth header: %d", bad.StatusCode)
	}
}

func TestDistributionAndPruneRoutes(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	if _, err := env.client.DistributionInspect(ctx, "localhost:5000/a:b", client.DistributionInspectOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("distribution inspect: %v", err)
	}
	res, err := env.client.ImagePrune(ctx, client.ImagePruneOptions{})
	if err != nil || res.Report.SpaceReclaimed != 0 {
		t.Errorf("prune: %+v, %v", res, err)
	}
	if r := env.do(t, http.MethodGet, "/distribution/a/b/nope", "", nil); r.StatusCode != 404 {
		t.Errorf("unknown distribution route: %d", r.StatusCode)
	}
}
