package daemon

import (
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	volumetypes "github.com/moby/moby/api/types/volume"

	"github.com/berth-project/berth/internal/backend"
)

func volumeNames(t *testing.T, e *env, filters backend.Filters) []string {
	t.Helper()
	resp, err := e.d.VolumeList(bg, filters)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range resp.Volumes {
		names = append(names, v.Name)
	}
	return names
}

func TestVolumesInUse(t *testing.T) {
	e := newEnv(t)
	if _, err := e.d.VolumeCreate(bg, volumetypes.CreateRequest{Name: "idle", Labels: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	id := e.create(t, "db", func(r *containertypes.CreateRequest) {
		r.HostConfig.Binds = []string{"data:/data", "/srv:/srv"}
		r.Config.Volumes = map[string]struct{}{"/scratch": {}, "/srv": {}}
	})
	all := volumeNames(t, e, nil)
	if len(all) != 3 || !slices.Contains(all, "data") || !slices.Contains(all, "idle") {
		t.Fatalf("volumes after create = %v (want data, idle and one anonymous: /srv is a bind)", all)
	}
	insp, err := e.d.ContainerInspect(bg, id, false)
	if err != nil {
		t.Fatal(err)
	}
	var anon string
	for _, m := range insp.Mounts {
		if m.Destination == "/scratch" {
			anon = m.Name
		}
	}
	if len(anon) != 64 || !slices.Equal(insp.HostConfig.Binds, []string{"data:/data", "/srv:/srv"}) || len(insp.Mounts) != 3 {
		t.Fatalf("inspect: anonymous %q, binds %v, mounts %+v", anon, insp.HostConfig.Binds, insp.Mounts)
	}

	for _, tc := range []struct {
		filters backend.Filters
		want    []string
	}{
		{backend.Filters{"dangling": {"true"}}, []string{"idle"}},
		{backend.Filters{"dangling": {"false"}, "name": {"dat"}}, []string{"data"}},
		{backend.Filters{"label": {"k=v"}}, []string{"idle"}},
		{backend.Filters{"label": {"com.docker.volume.anonymous"}}, []string{anon}},
	} {
		if got := volumeNames(t, e, tc.filters); !slices.Equal(got, tc.want) {
			t.Errorf("list %v = %v, want %v", tc.filters, got, tc.want)
		}
	}
	_, err = e.d.VolumeList(bg, backend.Filters{"dangling": {"maybe"}})
	wantClass(t, "bad dangling", err, errdefs.IsInvalidArgument, "invalid argument")
	_, err = e.d.VolumeList(bg, backend.Filters{"bogus": {"x"}})
	wantClass(t, "bad filter", err, errdefs.IsInvalidArgument, "invalid argument")

	wantClass(t, "remove in use", e.d.VolumeRemove(bg, "data", false), errdefs.IsConflict, "conflict")
	wantClass(t, "force remove in use", e.d.VolumeRemove(bg, "data", true), errdefs.IsConflict, "conflict")
	wantClass(t, "remove missing", e.d.VolumeRemove(bg, "nope", false), errdefs.IsNotFound, "not found")
	if err := e.d.VolumeRemove(bg, "nope", true); err != nil {
		t.Errorf("force remove missing: %v", err)
	}
	report, err := e.d.VolumePrune(bg, nil)
	if err != nil || len(report.VolumesDeleted) != 0 {
		t.Errorf("prune with everything named or used = %+v, %v", report, err)
	}

	// rm -v takes the anonymous volume, never the named one
	if err := e.d.ContainerRemove(bg, id, true, true, false); err != nil {
		t.Fatal(err)
	}
	if got := volumeNames(t, e, nil); !slices.Equal(got, []string{"data", "idle"}) {
		t.Errorf("volumes after rm -v = %v", got)
	}
	report, err = e.d.VolumePrune(bg, backend.Filters{"all": {"true"}, "label": {"k=v"}})
	if err != nil || !slices.Equal(report.VolumesDeleted, []string{"idle"}) {
		t.Errorf("prune all label k=v = %+v, %v", report, err)
	}
	if err := e.d.VolumeRemove(bg, "data", false); err != nil {
		t.Errorf("remove unused: %v", err)
	}
}
