package api

import (
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

func TestVolumeRoutes(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	c := env.client

	created, err := c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: "data", Labels: map[string]string{"a": "b"}})
	if err != nil || created.Volume.Name != "data" || created.Volume.Labels["a"] != "b" {
		t.Fatalf("create: %v %+v", err, created)
	}
	if _, err := c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: "busy", Labels: map[string]string{"inuse": "abc"}}); err != nil {
		t.Fatal(err)
	}
	insp, err := c.VolumeInspect(ctx, "data", client.VolumeInspectOptions{})
	if err != nil || insp.Volume.Mountpoint != "/v/data/_data" {
		t.Fatalf("inspect: %v %+v", err, insp)
	}
	if _, err := c.VolumeInspect(ctx, "nope", client.VolumeInspectOptions{}); !errdefs.IsNotFound(err) {
		t.Fatalf("inspect missing: %v", err)
	}
	list, err := c.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("name", "dat")})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "data" {
		t.Fatalf("list name=dat: %v %+v", err, list)
	}
	if _, err := c.VolumeRemove(ctx, "busy", client.VolumeRemoveOptions{Force: true}); !errdefs.IsConflict(err) {
		t.Fatalf("remove in use: %v, want a conflict", err)
	}
	if _, err := c.VolumeRemove(ctx, "nope", client.VolumeRemoveOptions{}); !errdefs.IsNotFound(err) {
		t.Fatalf("remove missing: %v", err)
	}
	if _, err := c.VolumeRemove(ctx, "nope", client.VolumeRemoveOptions{Force: true}); err != nil {
		t.Fatalf("force remove missing: %v", err)
	}
	pruned, err := c.VolumePrune(ctx, client.VolumePruneOptions{All: true})
	if err != nil || len(pruned.Report.VolumesDeleted) != 1 || pruned.Report.VolumesDeleted[0] != "data" {
		t.Fatalf("prune: %v %+v", err, pruned)
	}
	if _, err := c.VolumeRemove(ctx, "busy", client.VolumeRemoveOptions{}); !errdefs.IsConflict(err) {
		t.Fatalf("remove in use after prune: %v", err)
	}
}
