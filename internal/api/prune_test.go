package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"

	"github.com/berth-project/berth/internal/backend"
)

// diskUsage is the fake engine's answer to /system/df: one image used by a
// running container, one unused sharing 10 bytes with it, a stopped
// container, a used and an unused volume.
var diskUsage = backend.DiskUsage{
	LayersSize: 150,
	Images: []image.Summary{
		{ID: "sha256:a", Size: 100, SharedSize: 10, Containers: 1},
		{ID: "sha256:b", Size: 60, SharedSize: 10, Containers: 0},
	},
	Containers: []container.Summary{
		{ID: "c1", State: container.StateRunning, SizeRw: 7},
		{ID: "c2", State: container.StateExited, SizeRw: 5},
	},
	Volumes: []volume.Volume{
		{Name: "used", UsageData: &volume.UsageData{Size: 3, RefCount: 1}},
		{Name: "idle", UsageData: &volume.UsageData{Size: 4, RefCount: 0}},
	},
	BuildCache: []build.CacheRecord{
		{ID: "r1", Type: "regular", Size: 2},
		{ID: "r2", Type: "regular", Size: 8, InUse: true},
		{ID: "r3", Type: "source.local", Size: 16, Shared: true},
	},
}

func (f *fakeBackend) SystemDiskUsage(ctx context.Context, opts backend.DiskUsageOptions) (*backend.DiskUsage, error) {
	du := diskUsage
	if opts.Containers || opts.Images || opts.Volumes || opts.BuildCache {
		if !opts.Images {
			du.Images, du.LayersSize = nil, 0
		}
		if !opts.Containers {
			du.Containers = nil
		}
		if !opts.Volumes {
			du.Volumes = nil
		}
		if !opts.BuildCache {
			du.BuildCache = nil
		}
	}
	return &du, nil
}

func (f *fakeBackend) ContainerPrune(ctx context.Context, filters Filters) (*container.PruneReport, error) {
	if len(filters["bogus"]) > 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("invalid filter 'bogus'")
	}
	return &container.PruneReport{ContainersDeleted: []string{"c2"}, SpaceReclaimed: 5}, nil
}

func TestSystemDiskUsage(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	res, err := env.client.DiskUsage(ctx, client.DiskUsageOptions{Containers: true, Images: true, Volumes: true, BuildCache: true, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	// reclaimable: images 150 - (100-10); containers 12 - 7; volumes 7 - 3
	if r := res.Images; r.TotalCount != 2 || r.ActiveCount != 1 || r.TotalSize != 150 || r.Reclaimable != 60 || len(r.Items) != 2 {
		t.Errorf("images = %+v", r)
	}
	if r := res.Containers; r.TotalCount != 2 || r.ActiveCount != 1 || r.TotalSize != 12 || r.Reclaimable != 5 || len(r.Items) != 2 {
		t.Errorf("containers = %+v", r)
	}
	if r := res.Volumes; r.TotalCount != 2 || r.ActiveCount != 1 || r.TotalSize != 7 || r.Reclaimable != 4 {
		t.Errorf("volumes = %+v", r)
	}
	// build cache: what is neither in use nor shared is reclaimable
	if r := res.BuildCache; r.TotalCount != 3 || r.ActiveCount != 1 || r.TotalSize != 26 || r.Reclaimable != 2 || len(r.Items) != 3 {
		t.Errorf("build cache = %+v", r)
	}
	// an old client gets the lists themselves, with what it asked only
	resp := env.do(t, http.MethodGet, "/v1.51/system/df?type=volume", "", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var legacy map[string]json.RawMessage
	if err := json.Unmarshal(body, &legacy); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("legacy df: %d %s", resp.StatusCode, body)
	}
	if _, ok := legacy["Volumes"]; !ok || len(legacy) != 1 {
		t.Errorf("legacy df with type=volume = %s", body)
	}
	resp = env.do(t, http.MethodGet, "/v1.56/system/df?type=nonsense", "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown type: status %d, want 400", resp.StatusCode)
	}
	// a malformed query is refused, not read as no type at all
	resp = env.do(t, http.MethodGet, "/v1.56/system/df?type=%zz", "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed query: status %d, want 400", resp.StatusCode)
	}
}

func TestContainerPrune(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	res, err := env.client.ContainerPrune(ctx, client.ContainerPruneOptions{})
	if err != nil || len(res.Report.ContainersDeleted) != 1 || res.Report.SpaceReclaimed != 5 {
		t.Fatalf("prune = %+v, %v", res, err)
	}
	if _, err := env.client.ContainerPrune(ctx, client.ContainerPruneOptions{Filters: make(client.Filters).Add("bogus", "1")}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad filter: %v", err)
	}
}
