//go:build linux

package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-project/berth/internal/testutil"
	"github.com/berth-project/berth/internal/testutil/loadgen"
)

// The load tests' sizes: short in `make test`, the figures with
// BERTH_LOAD_FULL=1 (`make stress`), or one by one from the environment.
var loadSizes = struct {
	runs, containers, requests, subscribers, followers int
}{
	runs:        loadSize("BERTH_LOAD_RUNS", 16, 100),
	containers:  loadSize("BERTH_LOAD_CONTAINERS", 60, 1000),
	requests:    loadSize("BERTH_LOAD_REQUESTS", 600, 10000),
	subscribers: loadSize("BERTH_LOAD_SUBSCRIBERS", 10, 100),
	followers:   loadSize("BERTH_LOAD_FOLLOWERS", 5, 50),
}

// loadSize reads a load test's size from env, else full with
// BERTH_LOAD_FULL set, else short.
func loadSize(env string, short, full int) int {
	if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n > 0 {
		return n
	}
	if os.Getenv("BERTH_LOAD_FULL") != "" {
		return full
	}
	return short
}

// TestBurstRunRm starts a burst of `run --rm` on the default bridge at
// once (100 with BERTH_LOAD_FULL), as the docker CLI runs them through the
// API: every one prints its word and is removed, none fails (a generated
// name conflict or a 500 from a race used to), and afterwards berthd holds
// nothing more on the host than before (mounts, veths, netns files, rw
// layers, nftables rules, shims) and its goroutines and fds come back.
func TestBurstRunRm(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// one run first: the bridge and its nftables rules exist before the
	// baseline
	warm := d.Client(t)
	if _, err := loadgen.RunRm(ctx, warm, "", "warm-up"); err != nil {
		t.Fatal(err)
	}
	warm.Close() // its idle connection would be counted
	hostBase := d.HostState(t)
	base := idleUsage(t, d)

	c := d.Client(t)
	start := time.Now()
	errs := loadgen.Burst(ctx, c, "", loadSizes.runs)
	t.Logf("%d concurrent run --rm in %s", len(errs), time.Since(start).Round(time.Millisecond))
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			t.Errorf("run --rm %d: %v", i, err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d runs failed", failed, len(errs))
	}
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("%d containers left after run --rm, want none", len(list.Items))
	}
	c.Close()
	leaks := d.CheckNoLeaks(t, hostBase, 30*time.Second)
	after := d.WaitSettled(t, base, 5, 30*time.Second)
	t.Logf("berthd before %v, after %v; %d things left on the host", base, after, len(leaks))
}

// idleUsage reads berthd's usage once it is idle.
func idleUsage(t *testing.T, d *testutil.Daemon) testutil.Usage {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	u, err := d.Usage()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestBurstManyContainers creates many containers (1,000 with
// BERTH_LOAD_FULL) and lists them with `ps -a` through berth and the
// docker CLI: every one is listed by the name it was created with; then
// removes them all, leaving nothing behind. bench/load times the ps.
func TestBurstManyContainers(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	c := d.Client(t)
	ctx := context.Background()
	hostBase := d.HostState(t)
	n := loadSizes.containers
	prefix := unique("many")
	if err := loadgen.CreateMany(ctx, c, prefix, n, 8); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range n {
		want[fmt.Sprintf("%s-%d", prefix, i)] = true
	}
	eachCLI(t, d, func(t *testing.T, cl cli) {
		start := time.Now()
		out := cl.ok(t, "ps", "-a", "--format", "{{.Names}}")
		t.Logf("%s ps -a with %d containers: %s", cl.name, n, time.Since(start).Round(time.Millisecond))
		got := strings.Fields(out)
		if len(got) != n {
			t.Fatalf("ps -a lists %d containers, want %d", len(got), n)
		}
		for _, name := range got {
			if !want[name] {
				t.Fatalf("ps -a lists %q, which was not created", name)
			}
		}
	})
	if err := loadgen.RemoveAll(ctx, c, 8); err != nil {
		t.Fatal(err)
	}
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("after rm: %d containers, %v", len(list.Items), err)
	}
	d.CheckNoLeaks(t, hostBase, 30*time.Second)
}

// TestBurstMixedRequests sends a stream of mixed API requests (10,000 with
// BERTH_LOAD_FULL: inspect, list, logs, create and rm) while events
// subscribers (100) and `logs -f` followers (50) stay attached: every
// request is answered as it should be, every subscriber sees every create,
// every follower reads lines, and once the clients are gone berthd's
// goroutines and fds come back to their baseline, its RSS near it, and
// nothing is left on the host.
func TestBurstMixedRequests(t *testing.T) {
	t.Parallel()
	d := ownDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var talkers []string
	for i := range 3 {
		name := unique("talker" + strconv.Itoa(i))
		d.Berth(t, append([]string{"run", "-d", "--name", name, "--network", "none", loadgen.Image}, loadgen.TalkerCmd...)...).Success(t)
		talkers = append(talkers, name)
	}
	hostBase := d.HostState(t)
	base := idleUsage(t, d)

	prefix := unique("mixed")
	streams, err := loadgen.StartStreams(ctx, func() (*client.Client, error) { return client.New(client.WithHost(d.Host)) },
		loadSizes.subscribers, loadSizes.followers, talkers, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer streams.Stop()
	time.Sleep(300 * time.Millisecond)
	during, err := d.Usage()
	if err != nil {
		t.Fatal(err)
	}

	c := d.Client(t) // the requests' own, closed before the count
	mix := loadgen.Mix{Requests: loadSizes.requests, Workers: 16, Targets: talkers, Prefix: prefix}
	start := time.Now()
	creates, err := mix.Run(ctx, c)
	elapsed := time.Since(start)
	if err != nil {
		lines := strings.Split(err.Error(), "\n")
		t.Errorf("%d of %d requests failed; first ones:\n%s", len(lines), mix.Requests, strings.Join(lines[:min(10, len(lines))], "\n"))
	}
	peak, _ := d.Usage()
	t.Logf("%d mixed requests in %s (%.0f/s) with %d events subscribers and %d logs -f followers",
		mix.Requests, elapsed.Round(time.Millisecond), float64(mix.Requests)/elapsed.Seconds(), loadSizes.subscribers, loadSizes.followers)

	deadline := time.Now().Add(10 * time.Second)
	for {
		seen := streams.Creates()
		short := 0
		for _, n := range seen {
			if n != creates {
				short++
			}
		}
		if short == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d of %d events subscribers did not see the %d creates: %v", short, len(seen), creates, seen)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, n := range streams.Lines() {
		if n == 0 {
			t.Errorf("logs -f follower %d read no line", i)
		}
	}
	streams.Stop()
	c.Close()

	after := d.WaitSettled(t, base, 5, 30*time.Second)
	t.Logf("berthd: baseline %v; with the streams %v; after the requests %v; after the clients left %v", base, during, peak, after)
	// Go keeps freed heap a while before it returns it to the kernel: RSS
	// is held to a bound, not to the byte
	if limit := base.RSS*2 + 64<<20; after.RSS > limit {
		t.Errorf("berthd's RSS %d MiB after the load, baseline %d MiB", after.RSS>>20, base.RSS>>20)
	}
	for _, name := range talkers {
		d.Berth(t, "rm", "-f", name).Success(t)
	}
	d.CheckNoLeaks(t, hostBase, 30*time.Second)
}
