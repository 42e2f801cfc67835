package daemon

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/distribution"
)

// fakeDistributor replays progress events and records what it was asked.
type fakeDistributor struct {
	events   []distribution.ProgressEvent
	pulled   string
	platform *ocispec.Platform
}

func (f *fakeDistributor) Pull(ctx context.Context, ref reference.Named, opts distribution.PullOptions) (*distribution.PullResult, error) {
	f.pulled, f.platform = ref.String(), opts.Platform
	for _, ev := range f.events {
		opts.Progress(ev)
	}
	return &distribution.PullResult{}, nil
}

func (f *fakeDistributor) Push(ctx context.Context, repo, tag string, opts distribution.PushOptions) ([]distribution.PushResult, error) {
	for _, ev := range f.events {
		opts.Progress(ev)
	}
	return nil, nil
}

func (f *fakeDistributor) Login(ctx context.Context, auth registry.AuthConfig) (registry.AuthResponse, error) {
	return registry.AuthResponse{Status: "Login Succeeded"}, nil
}

func (f *fakeDistributor) Inspect(ctx context.Context, ref string, auth registry.AuthConfig) (ocispec.Descriptor, []ocispec.Platform, error) {
	return ocispec.Descriptor{}, nil, nil
}

// TestPullPushProgressJSON checks the docker JSON messages progress
// events become: a layer's status always carries a progressDetail, a
// transfer its bytes, and push's closing line its aux.
func TestPullPushProgressJSON(t *testing.T) {
	tests := []struct {
		name string
		ev   distribution.ProgressEvent
		want string
	}{
		{"line", distribution.ProgressEvent{Status: "Digest: sha256:abc"}, `{"status":"Digest: sha256:abc"}`},
		{"pulling from", distribution.ProgressEvent{ID: "v1", Status: "Pulling from a/b"}, `{"status":"Pulling from a/b","id":"v1"}`},
		{"layer status", distribution.ProgressEvent{ID: "0123456789ab", Status: "Pull complete", Detail: true}, `{"status":"Pull complete","progressDetail":{},"id":"0123456789ab"}`},
		{"transfer", distribution.ProgressEvent{ID: "0123456789ab", Status: "Downloading", Detail: true, Current: 10, Total: 100}, `{"status":"Downloading","progressDetail":{"current":10,"total":100},"id":"0123456789ab"}`},
		{"aux", distribution.ProgressEvent{Detail: true, Aux: map[string]any{"Tag": "v1", "Digest": "sha256:abc", "Size": 527}}, `{"progressDetail":{},"aux":{"Digest":"sha256:abc","Size":527,"Tag":"v1"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeDistributor{events: []distribution.ProgressEvent{tc.ev}}
			d := &Daemon{dist: f}
			var out bytes.Buffer
			if err := d.ImagePull(context.Background(), backend.ImagePullOptions{Image: mustNamed(t, "busybox"), Platform: "linux/x86_64"}, &out); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(out.String()); got != tc.want {
				t.Errorf("pull progress %s, want %s", got, tc.want)
			}
			if f.pulled != "docker.io/library/busybox" || f.platform == nil || f.platform.Architecture != "amd64" {
				t.Errorf("pulled %q for %+v", f.pulled, f.platform)
			}
			out.Reset()
			if err := d.ImagePush(context.Background(), backend.ImagePushOptions{Name: "busybox"}, &out); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(out.String()); got != tc.want {
				t.Errorf("push progress %s, want %s", got, tc.want)
			}
		})
	}
}

func mustNamed(t testing.TB, s string) reference.Named {
	t.Helper()
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		t.Fatal(err)
	}
	return named
}
