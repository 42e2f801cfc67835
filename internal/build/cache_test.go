package build

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/client"

	"github.com/berth-project/berth/internal/backend"
)

// TestPruneInfo: POST /build/prune's options become BuildKit's as dockerd
// converts them.
func TestPruneInfo(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		opts backend.BuildCachePruneOptions
		want client.PruneInfo
	}{
		{"nothing", backend.BuildCachePruneOptions{}, client.PruneInfo{}},
		{"all and sizes", backend.BuildCachePruneOptions{All: true, ReservedSpace: 1, MaxUsedSpace: 2, MinFreeSpace: 3},
			client.PruneInfo{All: true, ReservedSpace: 1, MaxUsedSpace: 2, MinFreeSpace: 3}},
		{"keep-storage is reserved space", backend.BuildCachePruneOptions{KeepStorage: 5}, client.PruneInfo{ReservedSpace: 5}},
		{"reserved space wins", backend.BuildCachePruneOptions{KeepStorage: 5, ReservedSpace: 7}, client.PruneInfo{ReservedSpace: 7}},
		{"until field", backend.BuildCachePruneOptions{Until: time.Hour}, client.PruneInfo{KeepDuration: time.Hour}},
		{"until timestamp", backend.BuildCachePruneOptions{Filters: backend.Filters{"until": {now.Add(-2 * time.Hour).Format(time.RFC3339Nano)}}},
			client.PruneInfo{KeepDuration: 2 * time.Hour}},
		{"unused-for", backend.BuildCachePruneOptions{Filters: backend.Filters{"unused-for": {"90m"}}}, client.PruneInfo{KeepDuration: 90 * time.Minute}},
		{"fields", backend.BuildCachePruneOptions{Filters: backend.Filters{"id": {"abc"}, "type": {"regular"}, "inuse": nil, "description": {"x y"}, "label": {"a=b"}}},
			client.PruneInfo{Filter: []string{"description==x y,id~=abc,inuse,type==regular"}}},
		{"shared private parent", backend.BuildCachePruneOptions{Filters: backend.Filters{"shared": {"true"}, "private": {}, "parent": {"p"}}},
			client.PruneInfo{Filter: []string{"parent==p,private,shared==true"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pruneInfo(tt.opts, now)
			if err != nil {
				t.Fatal(err)
			}
			// durations from "24h" are read against the clock
			if d := got.KeepDuration - tt.want.KeepDuration; d < -time.Minute || d > time.Minute {
				t.Fatalf("keep duration %v, want %v", got.KeepDuration, tt.want.KeepDuration)
			}
			got.KeepDuration = tt.want.KeepDuration
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestPruneInfoErrors: bad filters are invalid arguments with dockerd's
// messages.
func TestPruneInfoErrors(t *testing.T) {
	tests := []struct {
		filters backend.Filters
		msg     string
	}{
		{backend.Filters{"dangling": {"true"}}, "invalid filter 'dangling'"},
		{backend.Filters{"until": {"1h"}, "unused-for": {"1h"}}, `conflicting filters: "until" and "unused-for"`},
		{backend.Filters{"until": {"1h", "2h"}}, "filters expect only one value"},
		{backend.Filters{"id": {"a", "b"}}, "filters expect only one value"},
		{backend.Filters{"until": {"soon"}}, `"until" filter expects a duration (e.g., '24h') or a timestamp: failed to parse value as time or duration: "soon"`},
	}
	for _, tt := range tests {
		_, err := pruneInfo(backend.BuildCachePruneOptions{Filters: tt.filters}, time.Now())
		if !errdefs.IsInvalidArgument(err) || err.Error() != tt.msg {
			t.Errorf("%v: err = %v, want invalid argument %q", tt.filters, err, tt.msg)
		}
	}
}

// TestCacheWithoutState: a builder that never ran answers system df and
// prune with nothing, without starting BuildKit (which would fail here: no
// engine is wired into this Builder).
func TestCacheWithoutState(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "buildkit")
	b := New(Config{Root: root})
	recs, err := b.BuildCacheUsage(ctx)
	if err != nil || recs == nil || len(recs) != 0 {
		t.Fatalf("usage = %v, %v; want an empty list", recs, err)
	}
	rep, err := b.BuildCachePrune(ctx, backend.BuildCachePruneOptions{All: true})
	if err != nil || rep.CachesDeleted == nil || len(rep.CachesDeleted) != 0 || rep.SpaceReclaimed != 0 {
		t.Fatalf("prune = %+v, %v", rep, err)
	}
	// bad filters are refused even then
	if _, err := b.BuildCachePrune(ctx, backend.BuildCachePruneOptions{Filters: backend.Filters{"nope": nil}}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad filter: %v", err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Fatalf("state directory made: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(root, contextsDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if hasState(root) {
		t.Fatal("classic contexts taken for BuildKit's state")
	}
	if err := os.MkdirAll(filepath.Join(root, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if !hasState(root) {
		t.Fatal("state not seen")
	}
}

// TestCacheRecords: BuildKit's usage records in the API's shape.
func TestCacheRecords(t *testing.T) {
	used := time.Unix(200, 0)
	got := cacheRecords([]*client.UsageInfo{{ID: "a", Mutable: true, InUse: true, Size: 10, CreatedAt: time.Unix(100, 0), LastUsedAt: &used,
		UsageCount: 3, Parents: []string{"p"}, Description: "d", RecordType: client.UsageRecordTypeRegular, Shared: true}})
	if len(got) != 1 {
		t.Fatal(got)
	}
	r := got[0]
	if r.ID != "a" || !r.InUse || r.Size != 10 || !r.CreatedAt.Equal(time.Unix(100, 0)) || r.LastUsedAt != &used || r.UsageCount != 3 ||
		!reflect.DeepEqual(r.Parents, []string{"p"}) || r.Description != "d" || r.Type != "regular" || !r.Shared {
		t.Fatalf("%+v", r)
	}
}
