package api

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
)

// buildPrunes records the options the fake's BuildCachePrune got.
var buildPrunes struct {
	sync.Mutex
	last BuildCachePruneOptions
}

func fakeBuildCachePrune(opts BuildCachePruneOptions) (*build.CachePruneReport, error) {
	buildPrunes.Lock()
	buildPrunes.last = opts
	buildPrunes.Unlock()
	if len(opts.Filters["bogus"]) > 0 {
		return nil, errdefs.ErrInvalidArgument.WithMessage("invalid filter 'bogus'")
	}
	if opts.All {
		return &build.CachePruneReport{CachesDeleted: []string{"r1"}, SpaceReclaimed: 2}, nil
	}
	return &build.CachePruneReport{}, nil
}

func lastBuildPrune() BuildCachePruneOptions {
	buildPrunes.Lock()
	defer buildPrunes.Unlock()
	return buildPrunes.last
}

// TestBuildCachePrune: POST /build/prune reads docker's parameters as
// dockerd does for the client's API version and answers its report.
func TestBuildCachePrune(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	res, err := env.client.BuildCachePrune(ctx, client.BuildCachePruneOptions{All: true, ReservedSpace: 10, MaxUsedSpace: 20, MinFreeSpace: 30,
		Filters: make(client.Filters).Add("until", "24h").Add("type", "regular")})
	if err != nil || !reflect.DeepEqual(res.Report, build.CachePruneReport{CachesDeleted: []string{"r1"}, SpaceReclaimed: 2}) {
		t.Fatalf("prune = %+v, %v", res, err)
	}
	want := BuildCachePruneOptions{All: true, ReservedSpace: 10, MaxUsedSpace: 20, MinFreeSpace: 30,
		Filters: Filters{"until": {"24h"}, "type": {"regular"}}}
	if got := lastBuildPrune(); !reflect.DeepEqual(got, want) {
		t.Errorf("options = %+v, want %+v", got, want)
	}

	// nothing removed is an empty list, not null
	resp := env.do(t, http.MethodPost, "/v1.56/build/prune", "", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "{\"CachesDeleted\":[],\"SpaceReclaimed\":0}\n" {
		t.Errorf("build prune: %d %s", resp.StatusCode, body)
	}

	// keep-storage, the old name; before 1.48 the only size there was
	resp = env.do(t, http.MethodPost, "/v1.47/build/prune?keep-storage=5&max-used-space=7", "", nil)
	resp.Body.Close()
	if got := lastBuildPrune(); resp.StatusCode != http.StatusOK || got.KeepStorage != 5 || got.MaxUsedSpace != 0 {
		t.Errorf("v1.47: %d %+v", resp.StatusCode, got)
	}
	resp = env.do(t, http.MethodPost, "/v1.56/build/prune?keep-storage=5&reserved-space=6", "", nil)
	resp.Body.Close()
	if got := lastBuildPrune(); resp.StatusCode != http.StatusOK || got.KeepStorage != 5 || got.ReservedSpace != 6 {
		t.Errorf("v1.56: %d %+v", resp.StatusCode, got)
	}

	resp = env.do(t, http.MethodPost, "/v1.56/build/prune?reserved-space=lots", "", nil)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad size: %d %s", resp.StatusCode, body)
	}
	if _, err := env.client.BuildCachePrune(ctx, client.BuildCachePruneOptions{Filters: make(client.Filters).Add("bogus", "1")}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad filter: %v", err)
	}
}

// TestBuildCacheLegacyDf: before API 1.52 system df lists the records as
// BuildCache.
func TestBuildCacheLegacyDf(t *testing.T) {
	env := newTestEnv(t)
	resp := env.do(t, http.MethodGet, "/v1.51/system/df?type=build-cache", "", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var legacy struct{ BuildCache []build.CacheRecord }
	if err := json.Unmarshal(body, &legacy); err != nil || len(legacy.BuildCache) != 3 || legacy.BuildCache[1].ID != "r2" {
		t.Fatalf("legacy df: %s (%v)", body, err)
	}
}
