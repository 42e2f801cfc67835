//go:build linux

package integration

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// badCase is a Dockerfile (or context) the build must refuse with a clear
// error naming the Dockerfile line (BuildKit v0.9 and later print the line
// and its neighbours, "Dockerfile:2"; v0.8, dockerd 20.10's, did not).
type badCase struct {
	name       string
	dockerfile string
	files      map[string]string
	want       []string // what stderr must contain (docker with BuildKit v0.34)
	old        []string // replaces want against dockerd 20.10 (BuildKit v0.8)
}

var badCases = []badCase{
	{
		name:       "unknown-instruction",
		dockerfile: "FROM busybox\nFOO bar\n",
		want:       []string{"Dockerfile:2", "dockerfile parse error on line 2: unknown instruction: FOO"},
		old:        []string{"dockerfile parse error line 2: unknown instruction: FOO"},
	},
	{
		name:       "empty-dockerfile",
		dockerfile: "",
		want:       []string{"the Dockerfile cannot be empty"},
		old:        []string{"the Dockerfile cannot be empty"},
	},
	{
		name:       "comments-only",
		dockerfile: "# nothing but a comment\n\n",
		want:       []string{"file with no instructions"},
		old:        []string{"file with no instructions"},
	},
	{
		name:       "no-from",
		dockerfile: "RUN true\n",
		want:       []string{"Dockerfile:1", "no build stage in current context"},
		old:        []string{"no build stage in current context"},
	},
	{
		name:       "copy-outside-context",
		dockerfile: "FROM busybox\nCOPY ../outside.txt /x\n",
		want:       []string{"Dockerfile:2", `"/outside.txt": not found`},
		old:        []string{`"/outside.txt" not found: not found`},
	},
	{
		name:       "copy-dockerignored",
		dockerfile: "FROM busybox\nCOPY secret.txt /x\n",
		files:      map[string]string{"secret.txt": "hidden", ".dockerignore": "secret.txt\n"},
		want:       []string{"Dockerfile:2", `"/secret.txt": not found`},
		old:        []string{`"/secret.txt" not found: not found`},
	},
	{
		name:       "failing-run",
		dockerfile: "FROM busybox\nRUN echo before-failure && exit 3\n",
		want:       []string{"Dockerfile:2", `process "/bin/sh -c echo before-failure && exit 3" did not complete successfully: exit code: 3`},
		old:        []string{"executor failed running [/bin/sh -c echo before-failure && exit 3]: exit code: 3"},
	},
	{
		name:       "unknown-from-stage",
		dockerfile: "FROM busybox\nCOPY --from=3 /x /x\n",
		want:       []string{"invalid stage index 3"},
		old:        []string{"invalid stage index 3"},
	},
	{
		name:       "missing-base-image",
		dockerfile: "FROM {registry}/it-no-such-image:latest\nRUN true\n",
		want:       []string{"Dockerfile:1", "{registry}/it-no-such-image:latest: not found"},
		old:        []string{"{registry}/it-no-such-image:latest: not found"},
	},
}

// TestBuildBadInput checks that every bad Dockerfile fails with docker's
// error, names the line, tags nothing and leaves no container, image or
// mount behind. It uses a berthd of its own, so that what is left over can
// be counted exactly.
func TestBuildBadInput(t *testing.T) {
	parallelOnOwnDaemon(t)
	reg := testutil.StartRegistry(t)
	tg := buildTargetFor(t)
	if tg.d != nil {
		tg = ownBuildTarget(t)
	}
	eachBuilder(t, tg, func(t *testing.T, b builderCLI) {
		for _, tc := range badCases {
			t.Run(tc.name, func(t *testing.T) {
				repl := strings.NewReplacer("{registry}", reg.Host)
				files := map[string]string{"Dockerfile": repl.Replace(tc.dockerfile)}
				for k, v := range tc.files {
					files[k] = v
				}
				dir := buildContext(t, files)
				ref := b.tag(t, tc.name)
				before := leftovers(t, b)
				res := b.build(t, dir, "-t", ref)
				want := tc.want
				if b.tg.old() {
					want = tc.old
				}
				if res.ExitCode == 0 {
					t.Fatalf("the build succeeded: %s", res)
				}
				for _, w := range want {
					if w = repl.Replace(w); !strings.Contains(res.Stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, res.Stderr)
					}
				}
				if r := b.run(t, "image", "inspect", ref); r.ExitCode == 0 {
					t.Errorf("the failed build tagged %s", ref)
				}
				after := leftovers(t, b)
				if !slices.Equal(before.containers, after.containers) {
					t.Errorf("containers before the build %v, after %v", before.containers, after.containers)
				}
				if !slices.Equal(before.images, after.images) {
					t.Errorf("images before the build %v, after %v", before.images, after.images)
				}
				if !slices.Equal(before.mounts, after.mounts) {
					t.Errorf("mounts under the daemon's root before the build:\n%v\nafter:\n%v", before.mounts, after.mounts)
				}
			})
		}
	})
}

// buildLeftovers is what a build could leave behind.
type buildLeftovers struct {
	containers, images, mounts []string
}

func leftovers(t testing.TB, b builderCLI) buildLeftovers {
	t.Helper()
	var l buildLeftovers
	l.containers = lines(b.ok(t, "ps", "-aq", "--no-trunc"))
	l.images = lines(b.ok(t, "images", "-aq", "--no-trunc"))
	slices.Sort(l.images)
	if b.tg.d != nil {
		l.mounts = testutil.MountsUnder(b.tg.d.Root)
		slices.Sort(l.mounts)
	}
	return l
}

// TestBuildClientDisconnects kills the client (its whole process group:
// the docker CLI runs buildx as a child) while a RUN step runs: the build
// is cancelled, its step's processes end, nothing is tagged and no
// container or mount is left.
func TestBuildClientDisconnects(t *testing.T) {
	parallelOnOwnDaemon(t)
	tg := buildTargetFor(t)
	if tg.d != nil {
		tg = ownBuildTarget(t)
	}
	eachBuilder(t, tg, func(t *testing.T, b builderCLI) {
		tok := token()
		dir := buildContext(t, map[string]string{
			"Dockerfile": "FROM busybox\nRUN echo started-" + tok + " && sleep 120 && echo done-" + tok + "\n",
		})
		ref := b.tag(t, "disconnect")
		before := leftovers(t, b)
		cmd := b.cmd("build", "--progress=plain", "-t", ref, dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		var out strings.Builder
		go func() {
			sc := bufio.NewScanner(stderr)
			once := false
			for sc.Scan() {
				out.WriteString(sc.Text() + "\n")
				if !once && strings.Contains(sc.Text(), "started-"+tok) && !strings.Contains(sc.Text(), "RUN") {
					once = true
					close(started)
				}
			}
		}()
		select {
		case <-started:
		case <-time.After(90 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
			t.Fatalf("the RUN step did not start:\n%s", out.String())
		}
		if len(stepProcesses(tok)) == 0 {
			t.Errorf("no process of the RUN step found while it runs")
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		waitFor(t, 30*time.Second, "the RUN step's processes to end after the client went away", func() bool {
			return len(stepProcesses(tok)) == 0
		})
		if b.tg.d != nil {
			waitFor(t, 30*time.Second, "the build's mounts to go", func() bool {
				m := testutil.MountsUnder(b.tg.d.Root)
				slices.Sort(m)
				return slices.Equal(m, before.mounts)
			})
		}
		if r := b.run(t, "image", "inspect", ref); r.ExitCode == 0 {
			t.Errorf("the cancelled build tagged %s", ref)
		}
		after := leftovers(t, b)
		if !slices.Equal(before.containers, after.containers) || !slices.Equal(before.images, after.images) {
			t.Errorf("leftovers: containers %v -> %v, images %v -> %v", before.containers, after.containers, before.images, after.images)
		}
	})
}

// stepProcesses lists the pids whose command line holds tok.
func stepProcesses(tok string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if strings.Contains(string(cmdline), "started-"+tok) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestBuildLargeContextStreamed sends a context of 384 MB (a sparse file
// the whole build mounts): berthd streams it to disk and its peak memory
// grows by far less than the context.
func TestBuildLargeContextStreamed(t *testing.T) {
	t.Parallel()
	tg := buildTargetFor(t)
	if tg.d != nil {
		tg = ownBuildTarget(t)
	}
	const size = 384 << 20
	eachBuilder(t, tg, func(t *testing.T, b builderCLI) {
		dir := buildContext(t, map[string]string{
			"Dockerfile": "FROM busybox\nRUN --mount=type=bind,target=/ctx stat -c %s /ctx/big > /size\n",
		})
		f, err := os.Create(filepath.Join(dir, "big"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
		ref := b.tag(t, "bigctx")
		var hwm0 int64
		if b.tg.d != nil {
			hwm0 = vmHWM(t, b.tg.d.Pid())
		}
		b.buildOK(t, dir, "-t", ref)
		if got := runIn(t, b, ref, "cat /size"); got != strconv.Itoa(size) {
			t.Errorf("the build saw a context file of %s bytes, want %d", got, size)
		}
		if b.tg.d != nil {
			hwm := vmHWM(t, b.tg.d.Pid())
			t.Logf("berthd's peak RSS: %d MB before, %d MB after a build with a %d MB context", hwm0>>20, hwm>>20, size>>20)
			if hwm-hwm0 > size/3 {
				t.Errorf("berthd's peak RSS grew by %d MB for a %d MB context: is it read whole?", (hwm-hwm0)>>20, size>>20)
			}
		}
	})
}

// vmHWM is a process's peak resident set size in bytes.
func vmHWM(t testing.TB, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// parallelOnOwnDaemon makes t parallel when it runs on a berthd of its own;
// against a shared dockerd it runs alone, so what it counts is its own.
func parallelOnOwnDaemon(t *testing.T) {
	if os.Getenv(buildDockerHostEnv) == "" {
		t.Parallel()
	}
}
