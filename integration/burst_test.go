//go:build linux

package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/berth-project/berth/internal/testutil"
)

// The load tests' sizes: short in `make test`, the figures in
// `make stress` (BERTH_LOAD_FULL=1) or one by one from the environment.
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

// runRm is `docker run --rm busybox echo <word>` through the API, as the
// docker CLI does it: create with AutoRemove, attach, start, read the
// output to its end and wait for the removal. It returns the output.
func runRm(ctx context.Context, c *client.Client, word string) (string, error) {
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &containertypes.Config{Image: "busybox", Cmd: []string{"echo", word}},
		HostConfig: &containertypes.HostConfig{AutoRemove: true},
	})
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	att, err := c.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return "", fmt.Errorf("attach: %w", err)
	}
	defer att.Close()
	wait := c.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: containertypes.WaitConditionRemoved})
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return "", fmt.Errorf("start: %w", err)
	}
	var out, errOut bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errOut, att.Reader); err != nil {
		return "", fmt.Errorf("read output: %w", err)
	}
	select {
	case res := <-wait.Result:
		if res.StatusCode != 0 {
			return "", fmt.Errorf("exit %d, stderr %q", res.StatusCode, errOut.String())
		}
	case err := <-wait.Error:
		return "", fmt.Errorf("wait: %w", err)
	}
	return strings.TrimSpace(out.String()), nil
}

// TestLoadBurstRunRm starts a burst of `run --rm` at once (100 with
// BERTH_LOAD_FULL): every one prints its word and is removed, none fails
// with a name conflict or a 500, and afterwards berthd holds nothing more
// on the host than before (mounts, veths, netns files, rw layers, nftables
// rules, shims) and its goroutines and fds come back.
func TestLoadBurstRunRm(t *testing.T) {
	d := ownDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// one run first: the bridge and its nftables rules exist before the
	// baseline
	warm := newClient(t, d)
	if _, err := runRm(ctx, warm, "warm-up"); err != nil {
		t.Fatal(err)
	}
	warm.Close() // its idle connection would be counted
	hostBase := d.HostState(t)
	base := waitUsage(t, d)
	c := newClient(t, d)

	n := loadSizes.runs
	errs := make([]error, n)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			word := "burst-" + strconv.Itoa(i)
			out, err := runRm(ctx, c, word)
			if err == nil && out != word {
				err = fmt.Errorf("output %q, want %q", out, word)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	t.Logf("%d concurrent run --rm in %s", n, time.Since(start).Round(time.Millisecond))
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			t.Errorf("run --rm %d: %v", i, err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d runs failed", failed, n)
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

// waitUsage reads berthd's usage once it is idle: after a GC has had a
// moment and the client's idle connections have been closed.
func waitUsage(t *testing.T, d *testutil.Daemon) testutil.Usage {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	u, err := d.Usage()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestLoadManyContainers creates many containers (1,000 with
// BERTH_LOAD_FULL) and lists them with `ps -a` through berth and the
// docker CLI: every one is listed, by the name it was created with; then
// removes them all, leaving nothing behind. `bench/load` times the ps.
func TestLoadManyContainers(t *testing.T) {
	d := ownDaemon(t)
	c := d.Client(t)
	ctx := context.Background()
	hostBase := d.HostState(t)
	n := loadSizes.containers
	prefix := unique("many")
	createMany(t, c, prefix, n, 8)
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
	removeAll(t, c, 8)
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("after rm: %d containers, %v", len(list.Items), err)
	}
	d.CheckNoLeaks(t, hostBase, 30*time.Second)
}

// createMany creates n stopped busybox containers named <prefix>-<i>
// from workers goroutines.
func createMany(t testing.TB, c *client.Client, prefix string, n, workers int) {
	t.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				_, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{
					Name:       fmt.Sprintf("%s-%d", prefix, i),
					Config:     &containertypes.Config{Image: "busybox", Cmd: []string{"true"}},
					HostConfig: &containertypes.HostConfig{NetworkMode: "none"},
				})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d creates failed, first: %v", len(errs), n, errs[0])
	}
}

// removeAll force-removes every container from workers goroutines.
func removeAll(t testing.TB, c *client.Client, workers int) {
	t.Helper()
	list, err := c.ContainerList(context.Background(), client.ContainerListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := make(chan string, len(list.Items))
	for _, it := range list.Items {
		ids <- it.ID
	}
	close(ids)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				if _, err := c.ContainerRemove(context.Background(), id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
					failed.Add(1)
					t.Errorf("rm -f %s: %v", id, err)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
}

// TestLoadMixedRequests sends a stream of mixed API requests (10,000 with
// BERTH_LOAD_FULL: inspect, list, logs, create and rm) while events
// subscribers (100) and `logs -f` followers (50) stay attached; every
// request is answered as it should be, every subscriber sees the creates,
// and once the clients are gone berthd's goroutines and fds come back to
// their baseline, its RSS near it, and nothing is left on the host.
func TestLoadMixedRequests(t *testing.T) {
	d := ownDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// containers the followers follow and the requests read: each prints a
	// line every 200ms
	const talkers = 3
	var talkerIDs []string
	for i := range talkers {
		name := unique("talker" + strconv.Itoa(i))
		d.Berth(t, "run", "-d", "--name", name, "--network", "none", "busybox", "sh", "-c",
			"i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.2; done").Success(t)
		talkerIDs = append(talkerIDs, name)
	}
	hostBase := d.HostState(t)
	base := waitUsage(t, d)

	// subscribers and followers, each on its own connection
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var streams sync.WaitGroup
	subs, fols := loadSizes.subscribers, loadSizes.followers
	creates := make([]atomic.Int64, subs) // create events each subscriber saw
	prefix := unique("mixed")
	for i := range subs {
		sc := newClient(t, d)
		res := sc.Events(streamCtx, client.EventsListOptions{Filters: make(client.Filters).Add("type", "container").Add("event", "create")})
		streams.Add(1)
		go func() {
			defer streams.Done()
			for {
				select {
				case m := <-res.Messages:
					if strings.HasPrefix(m.Actor.Attributes["name"], prefix) {
						creates[i].Add(1)
					}
				case <-res.Err:
					return
				}
			}
		}()
	}
	followed := make([]atomic.Int64, fols) // lines each follower read
	for i := range fols {
		fc := newClient(t, d)
		rc, err := fc.ContainerLogs(streamCtx, talkerIDs[i%talkers], client.ContainerLogsOptions{ShowStdout: true, Follow: true, Tail: "0"})
		if err != nil {
			t.Fatal(err)
		}
		streams.Add(1)
		go func() {
			defer streams.Done()
			defer rc.Close()
			pr, pw := io.Pipe()
			go func() { _, err := stdcopy.StdCopy(pw, io.Discard, rc); pw.CloseWithError(err) }()
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				followed[i].Add(1)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	during, err := d.Usage()
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, d) // the requests' client, closed before the count

	n := loadSizes.requests
	var next, createsDone atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				target := talkerIDs[rand.IntN(talkers)]
				switch i % 10 {
				case 0, 1, 2, 3: // inspect
					res, err := c.ContainerInspect(ctx, target, client.ContainerInspectOptions{})
					if err != nil || !res.Container.State.Running {
						fail("inspect %s: %v", target, err)
					}
				case 4, 5: // list
					res, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
					if err != nil || len(res.Items) < talkers {
						fail("list: %d items, %v", len(res.Items), err)
					}
				case 6, 7: // logs
					rc, err := c.ContainerLogs(ctx, target, client.ContainerLogsOptions{ShowStdout: true, Tail: "5"})
					if err != nil {
						fail("logs %s: %v", target, err)
						continue
					}
					var out bytes.Buffer
					_, err = stdcopy.StdCopy(&out, io.Discard, rc)
					rc.Close()
					if err != nil || !strings.Contains(out.String(), "line-") {
						fail("logs %s: %q, %v", target, out.String(), err)
					}
				default: // create and rm
					name := fmt.Sprintf("%s-%d", prefix, i)
					created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
						Name:       name,
						Config:     &containertypes.Config{Image: "busybox", Cmd: []string{"true"}},
						HostConfig: &containertypes.HostConfig{NetworkMode: "none"},
					})
					if err != nil {
						fail("create %s: %v", name, err)
						continue
					}
					createsDone.Add(1)
					if _, err := c.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
						fail("rm %s: %v", name, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak, _ := d.Usage()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed; first ones:\n%s", len(failures), n, strings.Join(failures[:min(10, len(failures))], "\n"))
	}
	t.Logf("%d mixed requests in %s (%.0f/s) with %d events subscribers and %d logs -f followers", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), subs, fols)

	// every subscriber saw every create
	deadline := time.Now().Add(10 * time.Second)
	for i := range subs {
		for creates[i].Load() < createsDone.Load() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if got := creates[i].Load(); got != createsDone.Load() {
			t.Errorf("events subscriber %d saw %d creates, want %d", i, got, createsDone.Load())
		}
	}
	for i := range fols {
		if followed[i].Load() == 0 {
			t.Errorf("logs -f follower %d read no line", i)
		}
	}
	stopStreams()
	streams.Wait()
	c.Close()

	after := d.WaitSettled(t, base, 5, 30*time.Second)
	t.Logf("berthd: baseline %v; with the streams %v; after the requests %v; after the clients left %v", base, during, peak, after)
	// Go keeps freed heap for a while before returning it to the kernel:
	// RSS is held to a bound, not to the byte
	if limit := base.RSS*2 + 64<<20; after.RSS > limit {
		t.Errorf("berthd's RSS %d MiB after the load, baseline %d MiB", after.RSS>>20, base.RSS>>20)
	}
	for _, name := range talkerIDs {
		d.Berth(t, "rm", "-f", name).Success(t)
	}
	d.CheckNoLeaks(t, hostBase, 30*time.Second)
}

// newClient is a client of its own (its own connections), closed when t
// ends.
func newClient(t *testing.T, d *testutil.Daemon) *client.Client {
	t.Helper()
	c, err := client.New(client.WithHost(d.Host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
