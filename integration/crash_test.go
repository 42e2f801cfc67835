//go:build linux

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/testutil"
)

// crashIterationsEnv sets how many kill -9 iterations TestCrashKill9Loop
// runs: by default one per operation (make test); make stress runs 200 and
// more. crashSeedEnv replays a run's random kill moments.
const (
	crashIterationsEnv = "BERTH_CRASH_ITERATIONS"
	crashSeedEnv       = "BERTH_CRASH_SEED"
)

// crashOp is one operation the kill -9 loop interrupts. setup makes its
// precondition once per iteration, args is the operation itself (the
// interrupted command and the identical one run again after the restart),
// reset puts back the precondition whatever the interrupted run left (it
// may have finished or not), and verify checks what a finished run shows.
type crashOp struct {
	name   string
	setup  func(t *testing.T, it *crashIter)
	args   func(it *crashIter) []string
	stdin  func(it *crashIter) []byte
	reset  func(t *testing.T, it *crashIter)
	verify func(t *testing.T, it *crashIter)
}

// crashIter is the state of one iteration: unique names for whatever its
// operation makes or uses.
type crashIter struct {
	d    *testutil.Daemon
	reg  *testutil.Registry
	ctr  string // container
	vol  string // volume
	net  string // network
	img  string // image reference made by the operation (commit, push)
	repo string // registry path for push
	env  *crashEnv
}

// crashEnv is what the iterations share: the image the pulls fetch and the
// archive the loads read.
type crashEnv struct {
	pullRef string // registry image pulled again and again
	loadRef string // the image in loadTar
	loadTar []byte // docker save archive
}

// berth runs the berth CLI and returns the result without judging it.
func (it *crashIter) berth(t *testing.T, args ...string) *testutil.Result {
	t.Helper()
	return it.d.Berth(t, args...)
}

// ok runs the berth CLI and fails t unless it succeeds.
func (it *crashIter) ok(t *testing.T, args ...string) string {
	t.Helper()
	return it.d.Berth(t, args...).Success(t).Out()
}

// exists reports whether `berth <kind> inspect name` finds name (kind
// "container", "image", "volume" or "network").
func (it *crashIter) exists(t *testing.T, kind, name string) bool {
	t.Helper()
	if kind == "container" {
		return it.berth(t, "inspect", "--type", "container", name).ExitCode == 0
	}
	return it.berth(t, kind, "inspect", name).ExitCode == 0
}

func crashOps() []crashOp {
	noop := func(*testing.T, *crashIter) {}
	rmCtrIfThere := func(t *testing.T, it *crashIter) {
		if it.exists(t, "container", it.ctr) {
			it.ok(t, "rm", "-f", it.ctr)
		}
	}
	rmImgIfThere := func(ref func(*crashIter) string) func(*testing.T, *crashIter) {
		return func(t *testing.T, it *crashIter) {
			if it.exists(t, "image", ref(it)) {
				it.ok(t, "rmi", ref(it))
			}
		}
	}
	pullRef := func(it *crashIter) string { return it.env.pullRef }
	loadRef := func(it *crashIter) string { return it.env.loadRef }
	runsFrom := func(ref func(*crashIter) string, file string) func(*testing.T, *crashIter) {
		return func(t *testing.T, it *crashIter) {
			it.ok(t, "run", "--rm", ref(it), "test", "-s", file)
		}
	}
	status := func(t *testing.T, it *crashIter) string {
		return inspect(t, it.d, it.ctr, "{{.State.Status}}")
	}
	// a container that stops at once on SIGTERM, so stop is quick
	sleeper := []string{"busybox", "sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"}
	runSleeper := func(t *testing.T, it *crashIter) {
		it.ok(t, append([]string{"run", "-d", "--name", it.ctr}, sleeper...)...)
	}
	ops := []crashOp{
		{
			name:   "create",
			setup:  noop,
			args:   func(it *crashIter) []string { return append([]string{"create", "--name", it.ctr}, sleeper...) },
			reset:  rmCtrIfThere,
			verify: func(t *testing.T, it *crashIter) { wantEq(t, "status", status(t, it), "created") },
		},
		{
			name: "start",
			setup: func(t *testing.T, it *crashIter) {
				it.ok(t, append([]string{"create", "--name", it.ctr}, sleeper...)...)
			},
			args:   func(it *crashIter) []string { return []string{"start", it.ctr} },
			reset:  noop, // docker starts a running container without complaint
			verify: func(t *testing.T, it *crashIter) { wantEq(t, "status", status(t, it), "running") },
		},
		{
			name:   "stop",
			setup:  runSleeper,
			args:   func(it *crashIter) []string { return []string{"stop", "-t", "5", it.ctr} },
			reset:  noop, // stopping a stopped container succeeds
			verify: func(t *testing.T, it *crashIter) { wantEq(t, "status", status(t, it), "exited") },
		},
		{
			name:  "rm",
			setup: runSleeper,
			args:  func(it *crashIter) []string { return []string{"rm", "-f", it.ctr} },
			reset: func(t *testing.T, it *crashIter) {
				if !it.exists(t, "container", it.ctr) { // gone: its name must be free again
					runSleeper(t, it)
				}
			},
			verify: func(t *testing.T, it *crashIter) {
				if it.exists(t, "container", it.ctr) {
					t.Errorf("container %s still there after rm", it.ctr)
				}
			},
		},
		{
			name:   "pull",
			setup:  rmImgIfThere(pullRef),
			args:   func(it *crashIter) []string { return []string{"pull", it.env.pullRef} },
			reset:  rmImgIfThere(pullRef),
			verify: func(t *testing.T, it *crashIter) { it.ok(t, "image", "inspect", it.env.pullRef) },
		},
		{
			name: "push",
			setup: func(t *testing.T, it *crashIter) {
				// a layer of its own, so every push uploads a blob
				it.d.BerthStdin(t, bytes.NewReader(layerTar(t, "payload.bin", 1<<20)), "import", "-", it.img).Success(t)
			},
			args:  func(it *crashIter) []string { return []string{"push", it.img} },
			reset: noop,
			verify: func(t *testing.T, it *crashIter) {
				want := it.ok(t, "image", "inspect", "-f", "{{index .RepoDigests 0}}", it.img)
				got := it.repo + "@" + registryDigest(t, it.reg, strings.TrimPrefix(it.repo, it.reg.Host+"/"), "v1")
				if !strings.HasSuffix(want, got) {
					t.Errorf("registry has %s, the pushed image's digest is %s", got, want)
				}
			},
		},
		{
			name:   "load",
			setup:  rmImgIfThere(loadRef),
			args:   func(it *crashIter) []string { return []string{"load", "-q"} },
			stdin:  func(it *crashIter) []byte { return it.env.loadTar },
			reset:  rmImgIfThere(loadRef),
			verify: runsFrom(loadRef, "/payload.bin"),
		},
		{
			name: "commit",
			setup: func(t *testing.T, it *crashIter) {
				it.ok(t, "run", "--name", it.ctr, "busybox", "sh", "-c", "head -c 1000000 /dev/urandom > /big")
			},
			args:   func(it *crashIter) []string { return []string{"commit", it.ctr, it.img} },
			reset:  rmImgIfThere(func(it *crashIter) string { return it.img }),
			verify: runsFrom(func(it *crashIter) string { return it.img }, "/big"),
		},
		{
			name: "network connect",
			setup: func(t *testing.T, it *crashIter) {
				it.ok(t, "network", "create", it.net)
				runSleeper(t, it)
			},
			args: func(it *crashIter) []string { return []string{"network", "connect", it.net, it.ctr} },
			reset: func(t *testing.T, it *crashIter) {
				if strings.Contains(inspect(t, it.d, it.ctr, "{{json .NetworkSettings.Networks}}"), `"`+it.net+`"`) {
					it.ok(t, "network", "disconnect", it.net, it.ctr)
				}
			},
			verify: func(t *testing.T, it *crashIter) {
				ip := inspect(t, it.d, it.ctr, fmt.Sprintf("{{(index .NetworkSettings.Networks %q).IPAddress}}", it.net))
				if ip == "" {
					t.Fatalf("no address on %s", it.net)
				}
				it.ok(t, "run", "--rm", "--network", it.net, "busybox", "ping", "-c", "1", "-W", "5", ip)
			},
		},
	}
	ops = append(ops, createAndRm("volume", func(it *crashIter) string { return it.vol }, func(t *testing.T, it *crashIter) {
		it.ok(t, "run", "--rm", "-v", it.vol+":/v", "busybox", "touch", "/v/x")
	})...)
	return append(ops, createAndRm("network", func(it *crashIter) string { return it.net }, func(t *testing.T, it *crashIter) {
		it.ok(t, "run", "--rm", "--network", it.net, "busybox", "true")
	})...)
}

// createAndRm are the create and the rm of a volume or a network (kind)
// called name(it); usable checks that a created one works.
func createAndRm(kind string, name func(*crashIter) string, usable func(*testing.T, *crashIter)) []crashOp {
	create := func(t *testing.T, it *crashIter) { it.ok(t, kind, "create", name(it)) }
	there := func(t *testing.T, it *crashIter) bool { return it.exists(t, kind, name(it)) }
	return []crashOp{
		{
			name:  kind + " create",
			setup: func(*testing.T, *crashIter) {},
			args:  func(it *crashIter) []string { return []string{kind, "create", name(it)} },
			reset: func(t *testing.T, it *crashIter) {
				if there(t, it) {
					it.ok(t, kind, "rm", name(it))
				}
			},
			verify: usable,
		},
		{
			name:  kind + " rm",
			setup: create,
			args:  func(it *crashIter) []string { return []string{kind, "rm", name(it)} },
			reset: func(t *testing.T, it *crashIter) {
				if !there(t, it) { // gone: its name must be free again
					create(t, it)
				}
			},
			verify: func(t *testing.T, it *crashIter) {
				if there(t, it) {
					t.Errorf("%s %s still there after rm", kind, name(it))
				}
			},
		},
	}
}

func wantEq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// TestCrashKill9Loop kills berthd with SIGKILL at a random moment inside
// each operation, in turn, and checks after every restart that the store
// opens, that every container, image, volume and network is whole or
// absent, that what the operation left half-made was collected, and that
// the identical operation then succeeds. BERTH_CRASH_ITERATIONS sets the
// number of kills (one per operation by default).
func TestCrashKill9Loop(t *testing.T) {
	t.Parallel()
	ops := crashOps()
	iterations := len(ops)
	if v := os.Getenv(crashIterationsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", crashIterationsEnv, v)
		}
		iterations = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashSeedEnv); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, v, err)
		}
		seed = s
	}
	t.Logf("%d iterations, %s=%d", iterations, crashSeedEnv, seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1|1))

	reg := testutil.StartRegistry(t)
	d := ownDaemon(t)
	env := newCrashEnv(t, d, reg)

	// base is how long the CLI takes to reach berthd: a kill before that
	// interrupts nothing
	base := time.Hour
	for range 3 {
		began := time.Now()
		d.Berth(t, "ps", "-q").Success(t)
		base = min(base, time.Since(began))
	}
	base = base * 3 / 4
	// dur is each operation's run time (the mean of the last and the ones
	// before, so that neither a slow outlier nor a no-op rerun skews it):
	// the kill comes at a uniformly random moment within it (a little past,
	// sometimes, to catch the end of the operation too).
	dur := map[string]time.Duration{}
	// what each kill hit: the client not yet connected, the operation under
	// way, or the operation done
	before, during, after := map[string]int{}, map[string]int{}, map[string]int{}
	for i := range iterations {
		op := ops[i%len(ops)]
		it := &crashIter{d: d, reg: reg, env: env,
			ctr: unique("crash"), vol: unique("crashvol"), net: unique("crashnet")}
		it.repo = reg.Host + "/" + unique("crashpush")
		it.img = it.repo + ":v1"
		ok := t.Run(fmt.Sprintf("%03d-%s", i, strings.ReplaceAll(op.name, " ", "-")), func(t *testing.T) {
			op.setup(t, it)
			if dur[op.name] == 0 {
				// calibrate on an identical run, then put the precondition back
				dur[op.name] = crashRun(t, it, op).elapsed
				op.reset(t, it)
				if op.name == "push" || op.name == "start" || op.name == "stop" {
					crashUndo(t, it, op)
				}
			}
			delay := base + time.Duration(rng.Int64N(int64(max(dur[op.name]*11/10-base, 0))+1))
			cmd := it.d.BerthCmd(op.args(it)...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if op.stdin != nil {
				cmd.Stdin = bytes.NewReader(op.stdin(it))
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			if err := d.Kill9(); err != nil {
				t.Fatal(err)
			}
			switch err := cmd.Wait(); {
			case err == nil:
				after[op.name]++
			case strings.Contains(out.String(), "Cannot connect to the Docker daemon"):
				before[op.name]++
			default:
				during[op.name]++
			}
			t.Logf("killed %s after %s (it takes %s): %s", op.name, delay, dur[op.name], strings.TrimSpace(lastLine(out.String())))
			restarted := time.Now()
			if err := d.Start(); err != nil {
				t.Fatalf("berthd does not start after kill -9 in %s: %v", op.name, err)
			}
			checked := time.Now()
			checkCrashStore(t, d)
			t.Logf("restart %s, checks %s", checked.Sub(restarted).Round(time.Millisecond), time.Since(checked).Round(time.Millisecond))
			op.reset(t, it)
			r := crashRun(t, it, op)
			if r.ExitCode != 0 {
				t.Fatalf("%s after the restart: %s", op.name, r)
			}
			dur[op.name] = (dur[op.name] + r.elapsed) / 2
			op.verify(t, it)
			crashCleanup(t, it)
		})
		if !ok {
			t.Logf("berthd log: %s", d.SaveLog())
			break
		}
	}
	checkCrashStore(t, d)
	for _, op := range ops {
		t.Logf("%-16s killed during it %3d, after it %3d, before the client connected %3d", op.name, during[op.name], after[op.name], before[op.name])
	}
}

// newCrashEnv pushes the image the pulls fetch to reg and saves the archive
// the loads read (an image with a layer of its own, removed afterwards).
func newCrashEnv(t *testing.T, d *testutil.Daemon, reg *testutil.Registry) *crashEnv {
	t.Helper()
	env := &crashEnv{pullRef: reg.Host + "/" + unique("crashpull") + ":v1", loadRef: unique("crashload") + ":v1"}
	pushRandomImage(t, env.pullRef, 256<<10, 2<<20, 2<<20)
	maker := unique("crashmaker")
	d.Berth(t, "run", "--name", maker, "busybox", "sh", "-c", "head -c 2000000 /dev/urandom > /payload.bin").Success(t)
	d.Berth(t, "commit", maker, env.loadRef).Success(t)
	d.Berth(t, "rm", maker).Success(t)
	saved := filepath.Join(t.TempDir(), "load.tar")
	d.Berth(t, "save", "-o", saved, env.loadRef).Success(t)
	data, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	env.loadTar = data
	d.Berth(t, "rmi", env.loadRef).Success(t)
	return env
}

// crashResult is a finished run of an operation and how long it took.
type crashResult struct {
	*testutil.Result
	elapsed time.Duration
}

// crashRun runs op to the end.
func crashRun(t *testing.T, it *crashIter, op crashOp) crashResult {
	t.Helper()
	var stdin *bytes.Reader
	if op.stdin != nil {
		stdin = bytes.NewReader(op.stdin(it))
	}
	start := time.Now()
	var r *testutil.Result
	if stdin != nil {
		r = it.d.BerthStdin(t, stdin, op.args(it)...)
	} else {
		r = it.d.Berth(t, op.args(it)...)
	}
	return crashResult{Result: r, elapsed: time.Since(start)}
}

// crashUndo puts back the precondition of the operations whose reset is a
// no-op (running them twice is fine, but the kill should hit a real run).
func crashUndo(t *testing.T, it *crashIter, op crashOp) {
	t.Helper()
	switch op.name {
	case "push":
		it.ok(t, "rmi", it.img)
		op.setup(t, it)
	case "start":
		it.ok(t, "stop", "-t", "5", it.ctr)
	case "stop":
		it.ok(t, "start", it.ctr)
	}
}

// crashCleanup removes whatever the iteration made, and checks that with
// no container left nothing is mounted under the daemon's roots.
func crashCleanup(t *testing.T, it *crashIter) {
	t.Helper()
	it.berth(t, "rm", "-f", it.ctr)
	it.berth(t, "volume", "rm", "-f", it.vol)
	it.berth(t, "network", "rm", it.net)
	it.berth(t, "rmi", it.img)
	if left := lines(it.ok(t, "ps", "-a", "-q")); len(left) > 0 {
		t.Fatalf("containers left: %v", left)
	}
	var mounts []string
	deadline := time.Now().Add(5 * time.Second) // an exited shim is released in the background
	for {
		mounts = append(testutil.MountsUnder(it.d.DataRoot), testutil.MountsUnder(it.d.ExecRoot)...)
		if len(mounts) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(mounts) > 0 {
		t.Errorf("mounts left without any container: %v", mounts)
	}
}

func lastLine(s string) string {
	l := lines(s)
	if len(l) == 0 {
		return ""
	}
	return l[len(l)-1]
}

// checkCrashStore checks the daemon's store after a restart: every object
// the API lists inspects whole, and the data root holds nothing the API
// does not list (what a killed operation left half-made is gone).
func checkCrashStore(t *testing.T, d *testutil.Daemon) {
	t.Helper()
	b := func(args ...string) string { return d.Berth(t, args...).Success(t).Out() }
	data := d.DataRoot

	// containers
	ids := lines(b("ps", "-a", "-q", "--no-trunc"))
	if len(ids) > 0 {
		var ctrs []struct {
			ID, Name, Image string
			State           struct{ Status string }
			Config          *struct{ Image string }
		}
		mustJSON(t, b(append([]string{"inspect", "--type", "container"}, ids...)...), &ctrs)
		for _, c := range ctrs {
			if c.Name == "" || !strings.HasPrefix(c.Image, "sha256:") || c.Config == nil || c.Config.Image == "" {
				t.Errorf("container %s is not whole: name %q image %q", c.ID, c.Name, c.Image)
			}
			if !slices.Contains([]string{"created", "running", "exited", "paused", "restarting"}, c.State.Status) {
				t.Errorf("container %s %s is %s", c.ID, c.Name, c.State.Status)
			}
		}
	}
	wantSameSet(t, "container folders", dirNames(t, filepath.Join(data, "containers"), ""), ids)
	// one shim per running container, none for a start or stop cut short
	// (a shim told to go after its container's removal may take a moment)
	var running []string
	var strays []string
	for deadline := time.Now().Add(10 * time.Second); ; {
		running = lines(b("ps", "-q", "--no-trunc"))
		strays = strayShims(d.ExecRoot, running)
		if len(strays) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(strays) > 0 {
		t.Errorf("shims of no running container (running: %v):\n%s", running, strings.Join(strays, "\n"))
	}

	// images
	imgIDs := lines(b("images", "-a", "-q", "--no-trunc"))
	imgIDs = slices.Compact(slices.Sorted(slices.Values(imgIDs)))
	var imgs []struct {
		ID     string `json:"Id"`
		RootFS struct{ Layers []string }
	}
	if len(imgIDs) > 0 {
		mustJSON(t, b(append([]string{"image", "inspect"}, imgIDs...)...), &imgs)
		if len(imgs) != len(imgIDs) {
			t.Errorf("image inspect of %d images gave %d", len(imgIDs), len(imgs))
		}
	}
	var records []string
	for _, n := range dirNames(t, filepath.Join(data, "image", "images"), ".json") {
		records = append(records, "sha256:"+n)
	}
	wantSameSet(t, "image records", records, imgIDs)
	if left := dirNames(t, filepath.Join(data, "content", "ingest"), ""); len(left) > 0 {
		t.Errorf("content ingest holds %v after the restart", left)
	}
	if left := dirNames(t, filepath.Join(data, "image", "tmp"), ""); len(left) > 0 {
		t.Errorf("image tmp holds %v after the restart", left)
	}
	// every snapshot is a layer of an image, or kept by a lease for the next
	// pull of an interrupted one
	// and every image's config blob and layers are there
	used := map[string]bool{".empty": true}
	for _, img := range imgs {
		if _, err := os.Stat(filepath.Join(data, "content", "blobs", "sha256", strings.TrimPrefix(img.ID, "sha256:"))); err != nil {
			t.Errorf("image %s: config blob: %v", img.ID, err)
		}
		var chain digest.Digest
		for i, l := range img.RootFS.Layers {
			if i == 0 {
				chain = digest.Digest(l)
			} else {
				chain = digest.FromString(chain.String() + " " + l)
			}
			used[chain.Encoded()] = true
			if _, err := os.Stat(filepath.Join(data, "snapshot", chain.Encoded(), "diff")); err != nil {
				t.Errorf("image %s: layer %d: %v", img.ID, i, err)
			}
		}
	}
	for _, n := range dirNames(t, filepath.Join(data, "image", "leases"), ".json") {
		var le struct{ Chains []digest.Digest }
		raw, err := os.ReadFile(filepath.Join(data, "image", "leases", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		mustJSON(t, string(raw), &le)
		for _, c := range le.Chains {
			used[c.Encoded()] = true
		}
	}
	for _, n := range dirNames(t, filepath.Join(data, "snapshot"), "") {
		if !used[n] {
			t.Errorf("snapshot store holds %s, which no image or lease uses", n)
		}
	}

	// volumes
	vols := lines(b("volume", "ls", "-q"))
	if len(vols) > 0 {
		b(append([]string{"volume", "inspect"}, vols...)...)
	}
	wantSameSet(t, "volume folders", dirNames(t, filepath.Join(data, "volumes"), ""), vols)

	// networks: each inspects, and each link berth marked as a network's
	// bridge belongs to one that exists
	nets := lines(b("network", "ls", "-q", "--no-trunc"))
	b(append([]string{"network", "inspect"}, nets...)...)
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	prefix := "alias berth:" + d.Net.Table + ":net:"
	for _, line := range strings.Split(string(out), "\n") {
		_, id, ok := strings.Cut(line, prefix)
		if ok && !slices.Contains(nets, strings.Fields(id)[0]) {
			t.Errorf("a bridge of no network is left: %s", line)
		}
	}
}

// strayShims describes the shims under execRoot that serve none of the
// running containers.
func strayShims(execRoot string, running []string) []string {
	var out []string
	for _, pid := range testutil.ShimPids(execRoot) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(cmdline), "\x00")
		i := slices.Index(args, "-id")
		if i >= 0 && i+1 < len(args) && slices.Contains(running, args[i+1]) {
			continue
		}
		out = append(out, fmt.Sprintf("pid %d: %s", pid, strings.Join(args, " ")))
	}
	return out
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
}

// dirNames lists dir's entries (none when dir is missing), with suffix
// trimmed from those that have it; with a suffix, others are left out.
func dirNames(t *testing.T, dir, suffix string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), suffix)
		if ok {
			out = append(out, n)
		}
	}
	return out
}

func wantSameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Errorf("%s: on disk %v, through the API %v", what, g, w)
	}
}
