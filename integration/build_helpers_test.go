//go:build linux

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

// The build tests run against the shared berthd, or, when
// BERTH_BUILD_TESTS_DOCKER_HOST names the socket of a dockerd (with
// busybox:latest loaded), against that dockerd instead: the docker CLI and
// buildx then show what docker itself does with the same tables, which is
// how their expectations were checked. berth's half is skipped there.
const buildDockerHostEnv = "BERTH_BUILD_TESTS_DOCKER_HOST"

// buildTarget is the engine the build tests drive.
type buildTarget struct {
	host   string
	d      *testutil.Daemon // nil against a dockerd
	config string           // DOCKER_CONFIG for the docker CLI
	// dockerVersion is the server's major.minor ("20.10") against a dockerd.
	dockerVersion string
}

var dockerdTarget struct {
	once sync.Once
	t    *buildTarget
	err  string
}

// buildTargetFor returns the shared berthd, or the dockerd named by
// BERTH_BUILD_TESTS_DOCKER_HOST.
func buildTargetFor(t *testing.T) *buildTarget {
	t.Helper()
	if host := os.Getenv(buildDockerHostEnv); host != "" {
		return dockerdBuildTarget(t, host)
	}
	d := sharedDaemon(t)
	return &buildTarget{host: d.Host, d: d, config: d.DockerConfig()}
}

// ownBuildTarget is a berthd of t's own (for restarts); against a dockerd
// it skips t.
func ownBuildTarget(t *testing.T) *buildTarget {
	t.Helper()
	if os.Getenv(buildDockerHostEnv) != "" {
		t.Skipf("skipping: needs a berthd of its own (%s is set)", buildDockerHostEnv)
	}
	d := ownDaemon(t)
	return &buildTarget{host: d.Host, d: d, config: d.DockerConfig()}
}

func dockerdBuildTarget(t *testing.T, host string) *buildTarget {
	t.Helper()
	dockerdTarget.once.Do(func() {
		dir, err := os.MkdirTemp("", "berth-build-docker-config-")
		if err != nil {
			dockerdTarget.err = err.Error()
			return
		}
		tg := &buildTarget{host: host, config: dir}
		out, err := exec.Command(testutil.DockerCLI, "-H", host, "version", "-f", "{{.Server.Version}}").Output()
		if err != nil {
			dockerdTarget.err = "docker version against " + host + ": " + err.Error()
			return
		}
		v := strings.TrimSpace(string(out))
		if parts := strings.SplitN(v, ".", 3); len(parts) >= 2 {
			v = parts[0] + "." + parts[1]
		}
		tg.dockerVersion = v
		dockerdTarget.t = tg
	})
	if dockerdTarget.err != "" {
		t.Fatal(dockerdTarget.err)
	}
	return dockerdTarget.t
}

// old reports whether the target is Debian's dockerd 20.10, whose BuildKit
// (v0.8) predates the Dockerfile syntax 1.4 and later.
func (tg *buildTarget) old() bool { return tg.dockerVersion == "20.10" }

// builderCLI is one of the build clients: the docker CLI with the buildx
// plugin (its `docker build` goes through buildx), or berth.
type builderCLI struct {
	name string // "docker" or "berth"
	tg   *buildTarget
}

// cmd is the client aimed at the target.
func (b builderCLI) cmd(args ...string) *exec.Cmd {
	if b.name == "berth" {
		return b.tg.d.BerthCmd(args...)
	}
	if b.tg.d != nil {
		return b.tg.d.DockerCmd(args...)
	}
	cmd := exec.Command(testutil.DockerCLI, append([]string{"-H", b.tg.host}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "DOCKER_CONFIG="+b.tg.config, "DOCKER_CLI_HINTS=false")
	return cmd
}

func (b builderCLI) run(t testing.TB, args ...string) *testutil.Result {
	t.Helper()
	return testutil.Run(t, b.cmd(args...), nil)
}

func (b builderCLI) ok(t testing.TB, args ...string) string {
	t.Helper()
	return b.run(t, args...).Success(t).Out()
}

// build runs `<cli> build --progress=plain args... dir`.
func (b builderCLI) build(t testing.TB, dir string, args ...string) *testutil.Result {
	t.Helper()
	full := append([]string{"build", "--progress=plain"}, args...)
	return b.run(t, append(full, dir)...)
}

// buildOK builds and fails t unless the build succeeds.
func (b builderCLI) buildOK(t testing.TB, dir string, args ...string) *testutil.Result {
	t.Helper()
	return b.build(t, dir, args...).Success(t)
}

// tag is a fresh image name for this client, removed when t ends.
func (b builderCLI) tag(t testing.TB, base string) string {
	t.Helper()
	name := unique("b" + base + "-" + b.name)
	t.Cleanup(func() { b.run(t, "rmi", "-f", name) })
	return name
}

var berthBuild struct {
	once sync.Once
	ok   bool
	why  string
}

// eachBuilder runs f as a subtest for berth build, then for the docker CLI
// with buildx. berth's half is skipped while `berth build` does not exist
// and against a dockerd; docker's half is skipped where buildx cannot be
// built.
func eachBuilder(t *testing.T, tg *buildTarget, f func(t *testing.T, b builderCLI)) {
	t.Helper()
	for _, name := range []string{"berth", "docker"} {
		t.Run(name, func(t *testing.T) {
			if name == "berth" {
				requireBerthBuild(t, tg)
			} else {
				testutil.RequiresDockerCLI(t)
				bin := testutil.RequiresBuildx(t)
				if err := testutil.InstallBuildxPlugin(tg.config, bin); err != nil {
					t.Fatal(err)
				}
			}
			f(t, builderCLI{name: name, tg: tg})
		})
	}
}

// requireBerthBuild skips t unless berth has a build command and the target
// is a berthd.
func requireBerthBuild(t *testing.T, tg *buildTarget) {
	t.Helper()
	if tg.d == nil {
		t.Skipf("skipping berth build: the tests run against the dockerd at %s", tg.host)
	}
	berthBuild.once.Do(func() {
		out, err := tg.d.BerthCmd("build", "--help").CombinedOutput()
		switch {
		case err != nil:
			berthBuild.why = strings.TrimSpace(string(out))
		case !strings.Contains(string(out), "--build-arg"):
			berthBuild.why = "`berth build --help` shows no --build-arg flag"
		default:
			berthBuild.ok = true
		}
	})
	if !berthBuild.ok {
		t.Skipf("skipping berth build: berth has no build command yet (%s)", berthBuild.why)
	}
}

// buildContext writes files (see writeFiles) into a fresh directory and
// returns it.
func buildContext(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return dir
}

// writeFiles writes files (path -> content; a path ending in / is a
// directory) under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// imageConfig is `image inspect`'s .Config as raw JSON per key.
func imageConfig(t testing.TB, b builderCLI, ref string) map[string]json.RawMessage {
	t.Helper()
	out := b.ok(t, "image", "inspect", "-f", "{{json .Config}}", ref)
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("image inspect .Config of %s: %v\n%s", ref, err, out)
	}
	return m
}

// configKeys are the image config fields Dockerfile instructions set; every
// case states each of them (unstated ones must be empty).
var configKeys = []string{"Cmd", "Entrypoint", "Env", "ExposedPorts", "Healthcheck", "Labels", "OnBuild", "Shell", "StopSignal", "User", "Volumes", "WorkingDir"}

// emptyJSON is what an unset config field may look like.
func emptyJSON(raw json.RawMessage) bool {
	switch strings.TrimSpace(string(raw)) {
	case "", "null", `""`, "[]", "{}":
		return true
	}
	return false
}

// canonJSON re-encodes JSON with sorted keys and no spaces.
func canonJSON(t testing.TB, raw string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", raw, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// checkConfig compares the image's config with want (key -> JSON); keys of
// configKeys missing from want must be empty.
func checkConfig(t testing.TB, b builderCLI, ref string, want map[string]string) {
	t.Helper()
	got := imageConfig(t, b, ref)
	for k := range want {
		if !contains(configKeys, k) {
			t.Fatalf("test bug: config key %q is not in configKeys", k)
		}
	}
	for _, k := range configKeys {
		w, ok := want[k]
		g := got[k]
		switch {
		case !ok && !emptyJSON(g):
			t.Errorf("image config %s = %s, want it unset", k, g)
		case ok && emptyJSON(g):
			t.Errorf("image config %s is unset, want %s", k, w)
		case ok && canonJSON(t, string(g)) != canonJSON(t, w):
			t.Errorf("image config %s = %s, want %s", k, g, w)
		}
	}
}

// history returns the created-by lines of ref's history, newest first.
func history(t testing.TB, b builderCLI, ref string) []string {
	t.Helper()
	out := b.ok(t, "history", "--no-trunc", "--format", "{{json .CreatedBy}}", ref)
	var got []string
	for _, l := range lines(out) {
		var s string
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("history of %s: line %q: %v", ref, l, err)
		}
		got = append(got, s)
	}
	return got
}

// checkHistory compares the newest len(want) created-by lines with want,
// given oldest first as in the Dockerfile.
func checkHistory(t testing.TB, b builderCLI, ref string, want []string) {
	t.Helper()
	got := history(t, b, ref)
	if len(got) < len(want) {
		t.Errorf("history of %s has %d lines, want at least %d:\n%s", ref, len(got), len(want), strings.Join(got, "\n"))
		return
	}
	newest := got[:len(want)]
	for i := range want {
		g := newest[len(want)-1-i]
		if g != want[i] {
			t.Errorf("history line %d of %s:\n got %q\nwant %q\nwhole history (newest first):\n%s", i+1, ref, g, want[i], strings.Join(got, "\n"))
		}
	}
}

// runIn runs script with sh in a container of ref and returns its output.
func runIn(t testing.TB, b builderCLI, ref, script string) string {
	t.Helper()
	res := b.run(t, "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", ref, "-c", script)
	if res.ExitCode != 0 {
		t.Fatalf("check script in %s: %s", ref, res)
	}
	return strings.TrimRight(res.Stdout, "\n")
}

// stepLine matches a build step's header in plain progress output:
// "#7 [3/5] RUN cat /a".
var stepLine = regexp.MustCompile(`^#(\d+) (\[[^\]]+\] .*)$`)

// buildSteps maps each step of plain progress output ("[3/5] RUN cat /a")
// to whether it was CACHED.
func buildSteps(out string) map[string]bool {
	names := map[string]string{}
	steps := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if m := stepLine.FindStringSubmatch(l); m != nil {
			if _, seen := names[m[1]]; !seen {
				names[m[1]] = m[2]
				steps[m[2]] = false
			}
			continue
		}
		if f := strings.Fields(l); len(f) == 2 && f[1] == "CACHED" && strings.HasPrefix(f[0], "#") {
			if n, ok := names[strings.TrimPrefix(f[0], "#")]; ok {
				steps[n] = true
			}
		}
	}
	return steps
}

// stepNames lists the steps of buildSteps, sorted, for messages.
func stepNames(steps map[string]bool) string {
	var s []string
	for n, c := range steps {
		if c {
			n += " (CACHED)"
		}
		s = append(s, n)
	}
	sort.Strings(s)
	return strings.Join(s, "\n")
}
