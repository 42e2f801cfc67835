package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"
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

func mountsByDest(t *testing.T, e *env, id string) map[string]containertypes.MountPoint {
	t.Helper()
	insp, err := e.d.ContainerInspect(bg, id, false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]containertypes.MountPoint{}
	for _, m := range insp.Mounts {
		out[m.Destination] = m
	}
	return out
}

func TestImageVolumes(t *testing.T) {
	e := newEnv(t)
	e.images.volumes = map[string]struct{}{"/var/db": {}, "/cache": {}}
	id := e.create(t, "img", func(r *containertypes.CreateRequest) {
		r.HostConfig.Binds = []string{"named:/cache"}
	})
	mounts := mountsByDest(t, e, id)
	if m := mounts["/var/db"]; len(m.Name) != 64 || m.Type != "volume" || !m.RW {
		t.Errorf("image VOLUME /var/db: %+v, want an anonymous volume", m)
	}
	if m := mounts["/cache"]; m.Name != "named" {
		t.Errorf("image VOLUME /cache covered by -v: %+v", m)
	}
	insp, _ := e.d.ContainerInspect(bg, id, false)
	if !slices.Equal(insp.HostConfig.Binds, []string{"named:/cache"}) {
		t.Errorf("HostConfig.Binds = %v, want only what was asked", insp.HostConfig.Binds)
	}
	anon := mounts["/var/db"].Name
	if err := e.d.ContainerRemove(bg, id, true, true, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.volumes.Get(anon); !errdefs.IsNotFound(err) {
		t.Errorf("rm -v kept the image VOLUME's anonymous volume: %v", err)
	}
	if _, err := e.volumes.Get("named"); err != nil {
		t.Errorf("rm -v removed a named volume: %v", err)
	}
}

func TestVolumesFrom(t *testing.T) {
	e := newEnv(t)
	src := e.create(t, "src", func(r *containertypes.CreateRequest) {
		r.HostConfig.Binds = []string{"shared:/shared", "/srv:/srv"}
		r.HostConfig.Mounts = []mount.Mount{{Type: mount.TypeTmpfs, Target: "/tmpfs"}}
		r.HostConfig.Tmpfs = map[string]string{"/run": ""}
		r.Config.Volumes = map[string]struct{}{"/anon": {}}
	})
	anon := mountsByDest(t, e, src)["/anon"].Name
	dst := e.create(t, "dst", func(r *containertypes.CreateRequest) {
		r.HostConfig.VolumesFrom = []string{"src:ro"}
		r.HostConfig.Binds = []string{"/other:/srv"}
	})
	mounts := mountsByDest(t, e, dst)
	if len(mounts) != 4 {
		t.Fatalf("mounts = %+v, want /shared, /srv, /tmpfs and /anon (not --tmpfs /run)", mounts)
	}
	if m := mounts["/shared"]; m.Name != "shared" || m.RW {
		t.Errorf("/shared = %+v, want volume shared read-only", m)
	}
	if m := mounts["/anon"]; m.Name != anon || m.RW {
		t.Errorf("/anon = %+v, want the same anonymous volume %s read-only", m, anon)
	}
	if m := mounts["/srv"]; m.Source != "/other" || !m.RW {
		t.Errorf("/srv = %+v, want the container's own bind", m)
	}
	if m := mounts["/tmpfs"]; m.Type != mount.TypeTmpfs {
		t.Errorf("/tmpfs = %+v", m)
	}
	// removing the source with -v keeps what the other container uses
	if err := e.d.ContainerRemove(bg, src, true, true, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.volumes.Get(anon); err != nil {
		t.Errorf("anonymous volume in use by dst removed: %v", err)
	}
	if err := e.d.VolumeRemove(bg, anon, false); !errdefs.IsConflict(err) {
		t.Errorf("volume rm of a volume dst uses: %v, want a conflict", err)
	}
	_, err := e.d.ContainerCreate(bg, "xx", &containertypes.CreateRequest{
		Config:     &containertypes.Config{Image: "busybox"},
		HostConfig: &containertypes.HostConfig{VolumesFrom: []string{"nosuch"}},
	})
	if !errdefs.IsInvalidArgument(err) || err.Error() != "No such container: nosuch" {
		t.Errorf("unknown --volumes-from: %v", err)
	}
	if _, err := e.d.ContainerInspect(bg, "xx", false); !errdefs.IsNotFound(err) {
		t.Errorf("a failed create left a container: %v", err)
	}
}

func TestPruneEvents(t *testing.T) {
	e := newEnv(t)
	e.create(t, "stopped", nil)
	if _, err := e.d.VolumeCreate(bg, volumetypes.CreateRequest{Name: "idle"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dataRoot, "volumes", "idle", "_data", "f"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.d.ContainerPrune(bg, nil); err != nil || len(rep.ContainersDeleted) != 1 {
		t.Fatalf("container prune = %+v, %v", rep, err)
	}
	if rep, err := e.d.VolumePrune(bg, backend.Filters{"all": {"true"}}); err != nil || len(rep.VolumesDeleted) != 1 || rep.SpaceReclaimed != 5 {
		t.Fatalf("volume prune = %+v, %v", rep, err)
	}
	var got []string
	for _, m := range recorded(t, e.d) {
		if m.Action == events.ActionPrune {
			got = append(got, fmt.Sprint(m.Type, " ", m.Actor.ID, m.Actor.Attributes))
		}
	}
	if want := []string{"container map[reclaimed:0]", "volume map[reclaimed:5]"}; !slices.Equal(got, want) {
		t.Errorf("prune events = %q, want %q", got, want)
	}
	if _, err := e.d.ContainerPrune(bg, backend.Filters{"colour": {"red"}}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad filter: %v", err)
	}
}
