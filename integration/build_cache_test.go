//go:build linux

package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-units"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/moby/client"
	"github.com/tonistiigi/fsutil"

	"github.com/berth-project/berth/internal/testutil"
)

// cacheSolve builds dockerfile (with an empty context) on d's
// BuildKit through /grpc, as buildx's docker driver does, exporting
// nothing: what it leaves is build cache. It reports whether the step
// whose name contains step came from the cache.
func cacheSolve(t *testing.T, d *testutil.Daemon, dockerfile, step string) (cached bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	api, err := client.New(client.WithHost(d.Host))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	bk, err := bkclient.New(ctx, "", bkclient.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return api.DialHijack(ctx, "/grpc", "h2c", nil)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer bk.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *bkclient.SolveStatus)
	found := make(chan bool, 1)
	go func() {
		seen, c := false, false
		for s := range ch {
			for _, v := range s.Vertexes {
				if strings.Contains(v.Name, step) && v.Completed != nil {
					seen, c = true, v.Cached
				}
			}
		}
		if !seen {
			t.Errorf("no completed step %q in the build's status", step)
		}
		found <- c
	}()
	_, err = bk.Solve(ctx, nil, bkclient.SolveOpt{
		Frontend:    "dockerfile.v0",
		LocalMounts: map[string]fsutil.FS{"context": fs, "dockerfile": fs},
	}, ch)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return <-found
}

// buildCacheRow reads `system df`'s Build Cache row: its count and size.
func buildCacheRow(t *testing.T, c cli) (int, int64) {
	t.Helper()
	out := c.ok(t, "system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Size}}")
	for _, l := range lines(out) {
		f := strings.Split(l, "|")
		if len(f) == 3 && f[0] == "Build Cache" {
			size, err := units.FromHumanSize(f[2])
			if err != nil {
				t.Fatalf("size %q: %v", f[2], err)
			}
			n := 0
			for _, ch := range f[1] {
				n = n*10 + int(ch-'0')
			}
			return n, size
		}
	}
	t.Fatalf("no Build Cache row in system df:\n%s", out)
	return 0, 0
}

// TestBuildCacheIdle: an engine that never built answers system df and
// builder prune with an empty cache, without starting BuildKit for it (no
// state appears under <data-root>/buildkit), and refuses bad filters. An
// own daemon: its docker CLI config has no buildx, which would take
// `docker builder prune` over.
func TestBuildCacheIdle(t *testing.T) {
	d := ownDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if n, size := buildCacheRow(t, c); n != 0 || size != 0 {
			t.Errorf("build cache of an idle engine: %d records, %d bytes", n, size)
		}
		if out := c.ok(t, "system", "df", "-v"); !strings.Contains(out, "Build cache usage: 0B") {
			t.Errorf("system df -v:\n%s", out)
		}
		if out := c.ok(t, "builder", "prune", "-af"); out != "Total reclaimed space: 0B" {
			t.Errorf("builder prune: %q", out)
		}
		// a filter dockerd refuses is refused
		c.run(t, "builder", "prune", "-f", "--filter", "dangling=true").Fails(t, 1, "invalid filter 'dangling'")
		if entries, _ := os.ReadDir(filepath.Join(d.DataRoot, "buildkit")); len(entries) != 0 {
			t.Errorf("BuildKit state made for an idle engine: %v", entries)
		}
	})
}

// TestBuildCache: a build leaves cache that system df counts and shows;
// builder prune --filter until= keeps what is recent, builder prune -af
// reclaims it all and the next build misses the cache; system prune -af
// prunes the build cache too. berth and the docker CLI alike, on an own
// daemon (prune -a empties the whole cache).
func TestBuildCache(t *testing.T) {
	d := ownDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		// the other CLI's system prune -a took busybox
		if err := d.ImportBusybox(d.BusyboxTar(t)); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		tag := hex.EncodeToString(b)
		// 3 MB of random data in a layer of its own
		dockerfile := "FROM busybox\nRUN head -c 3000000 /dev/urandom > /big-" + tag + "\n"
		if cacheSolve(t, d, dockerfile, "/big-"+tag) {
			t.Fatal("first build came from the cache")
		}
		if !cacheSolve(t, d, dockerfile, "/big-"+tag) {
			t.Fatal("second build missed the cache")
		}

		n, size := buildCacheRow(t, c)
		if n == 0 || size < 3_000_000 {
			t.Fatalf("system df after a build: %d records, %d bytes", n, size)
		}
		verbose := c.ok(t, "system", "df", "-v")
		if !regexp.MustCompile(`Build cache usage: [1-9][0-9.]*[kMG]B\n\nCACHE ID\s+CACHE TYPE\s+SIZE\s+CREATED\s+LAST USED\s+USAGE\s+SHARED\n[0-9a-z]{12}\*?\s+regular\s`).MatchString(verbose) {
			t.Errorf("system df -v:\n%s", verbose)
		}

		// everything was used a moment ago: until=24h keeps it
		if out := c.ok(t, "builder", "prune", "-af", "--filter", "until=24h"); out != "Total reclaimed space: 0B" {
			t.Errorf("prune until=24h: %q", out)
		}
		if n2, size2 := buildCacheRow(t, c); n2 != n || size2 != size {
			t.Errorf("until=24h pruned: %d/%d records, %d/%d bytes", n2, n, size2, size)
		}

		// the prompt, declined
		if out := c.runStdin(t, "n\n", "builder", "prune", "-a").Success(t).Out(); out != "WARNING! This will remove all build cache. Are you sure you want to continue? [y/N]" {
			t.Errorf("prompt: %q", out)
		}

		out := c.ok(t, "builder", "prune", "-af")
		if !strings.HasPrefix(out, "Deleted build cache objects:\n") {
			t.Errorf("builder prune -af:\n%s", out)
		}
		if got := reclaimed(t, out); got < 3_000_000 {
			t.Errorf("builder prune -af reclaimed %d bytes, want the 3 MB layer at least", got)
		}
		if n, size := buildCacheRow(t, c); n != 0 || size != 0 {
			t.Errorf("after builder prune -af: %d records, %d bytes", n, size)
		}
		if cacheSolve(t, d, dockerfile, "/big-"+tag) {
			t.Error("the build after builder prune -af hit the cache")
		}

		// system prune -a takes the build cache too
		out = c.ok(t, "system", "prune", "-af")
		if !strings.Contains(out, "Deleted build cache objects:\n") {
			t.Errorf("system prune -af:\n%s", out)
		}
		if n, _ := buildCacheRow(t, c); n != 0 {
			t.Errorf("after system prune -af: %d records", n)
		}
	})
}

// TestBuildCacheBuildx: the cache a docker build (buildx, docker driver)
// leaves is what buildx du reads through the control API and what system
// df counts; docker builder prune, which the docker CLI hands to buildx
// then, empties it for both.
func TestBuildCacheBuildx(t *testing.T) {
	d := ownDaemon(t)
	d.RequiresBuildx(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox\nRUN head -c 3000000 /dev/urandom > /big-"+unique("x")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := unique("bxcache")
	d.Docker(t, "build", "-t", img, dir).Success(t)
	berth := cli{name: "berth", d: d}
	n, size := buildCacheRow(t, berth)
	if n == 0 || size < 3_000_000 {
		t.Fatalf("system df after a buildx build: %d records, %d bytes", n, size)
	}
	du := d.Docker(t, "buildx", "du").Success(t).Out()
	m := regexp.MustCompile(`(?m)^Total:\s+(\S+)$`).FindStringSubmatch(du)
	if m == nil {
		t.Fatalf("buildx du:\n%s", du)
	}
	if total, err := units.FromHumanSize(m[1]); err != nil || total < 3_000_000 {
		t.Errorf("buildx du total %q (%v), want the 3 MB layer at least:\n%s", m[1], err, du)
	}
	out := d.Docker(t, "builder", "prune", "-af").Success(t).Combined()
	if !strings.Contains(out, "Total:") {
		t.Errorf("docker builder prune -af through buildx:\n%s", out)
	}
	if n, _ := buildCacheRow(t, berth); n != 0 {
		t.Errorf("after docker builder prune -af: %d records\n%s", n, d.Berth(t, "system", "df", "-v").Out())
	}
}
