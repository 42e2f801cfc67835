package cli

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/api/types/build"
)

// TestBuilderPrune: builder prune asks docker's question, sends -a,
// --filter and --keep-storage, and prints docker's report.
func TestBuilderPrune(t *testing.T) {
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /build/prune": replyJSON(http.StatusOK, `{"CachesDeleted":["abc","def"],"SpaceReclaimed":2048}`),
	})
	out, errOut, code := stub.run(t, "n\n", "builder", "prune")
	if code != 0 || out != "WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] " || errOut != "" {
		t.Fatalf("declined: %d %q %q", code, out, errOut)
	}
	if len(stub.requests()) != 0 {
		t.Fatalf("declined prune sent %v", stub.requests())
	}
	out, _, code = stub.run(t, "y\n", "builder", "prune", "-a", "--filter", "until=24h", "--keep-storage", "1MB")
	want := "WARNING! This will remove all build cache. Are you sure you want to continue? [y/N] " +
		"Deleted build cache objects:\nabc\ndef\n\nTotal reclaimed space: 2.048kB\n"
	if code != 0 || out != want {
		t.Fatalf("prune: %d %q, want %q", code, out, want)
	}
	reqs := stub.requests()
	q, _ := url.ParseQuery(strings.SplitN(reqs[0], "?", 2)[1])
	if q.Get("all") != "1" || q.Get("reserved-space") != "1048576" || q.Get("filters") != `{"until":{"24h":true}}` {
		t.Fatalf("request %s", reqs[0])
	}
}

// TestSystemPruneBuildCache: system prune prunes the build cache last, -a
// included, and counts it in the total.
func TestSystemPruneBuildCache(t *testing.T) {
	stub := newAPIStub(t, map[string]http.HandlerFunc{
		"POST /containers/prune": replyJSON(http.StatusOK, `{"ContainersDeleted":[],"SpaceReclaimed":0}`),
		"POST /networks/prune":   replyJSON(http.StatusOK, `{"NetworksDeleted":[]}`),
		"POST /images/prune":     replyJSON(http.StatusOK, `{"ImagesDeleted":[],"SpaceReclaimed":0}`),
		"POST /build/prune":      replyJSON(http.StatusOK, `{"CachesDeleted":["abc"],"SpaceReclaimed":1000}`),
	})
	out, _, code := stub.run(t, "", "system", "prune", "-af")
	if code != 0 || out != "Deleted build cache objects:\nabc\n\nTotal reclaimed space: 1kB\n" {
		t.Fatalf("%d %q", code, out)
	}
	reqs := stub.requests()
	if last := reqs[len(reqs)-1]; !strings.HasPrefix(last, "POST /build/prune?all=1") {
		t.Fatalf("requests %v", reqs)
	}
}

// TestBuildCacheRows: system df -v's build cache rows, least recently
// used first.
func TestBuildCacheRows(t *testing.T) {
	now := time.Now()
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 10, 1, 3, ' ', 0)
	printBuildCacheRows(tw, []build.CacheRecord{
		{ID: "zzzzzzzzzzzzzzzzzzzzzzzz", Type: "regular", Size: 1234567, CreatedAt: now.Add(-time.Hour), LastUsedAt: ago(time.Minute), UsageCount: 2},
		{ID: "sha256:yyyyyyyyyyyyyyyyyy", Type: "source.local", Size: 10, CreatedAt: now.Add(-time.Hour), InUse: true, Shared: true},
		{ID: "xxxx", Type: "regular", CreatedAt: now.Add(-time.Hour), LastUsedAt: ago(2 * time.Minute), UsageCount: 1},
	}, now)
	tw.Flush()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "yyyyyyyyyyyy*") || !strings.HasPrefix(lines[1], "xxxx ") ||
		!strings.HasPrefix(lines[2], "zzzzzzzzzzzz ") || !strings.Contains(lines[2], "1.23MB") || !strings.Contains(lines[2], "About an hour ago") ||
		!strings.Contains(lines[2], "About a minute ago") || !strings.HasSuffix(lines[0], "true") {
		t.Fatalf("rows:\n%s", b.String())
	}
}
