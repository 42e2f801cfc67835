//go:build linux

package integration

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// token is a random word that makes a build's content (and so its cache
// keys) its own.
func token() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// layerSteps keeps the COPY and RUN steps of buildSteps ("[2/6] COPY a.txt /a").
var layerStep = regexp.MustCompile(`^\[\d+/\d+\] (COPY|RUN) `)

func layerSteps(out string) map[string]bool {
	steps := map[string]bool{}
	for name, cached := range buildSteps(out) {
		if layerStep.MatchString(name) {
			steps[strings.SplitN(name, "] ", 2)[1]] = cached
		}
	}
	return steps
}

// TestBuildCacheHitsAndMisses rebuilds a context after touching, ignoring
// and changing files: only the steps that depend on changed content run
// again.
func TestBuildCacheHitsAndMisses(t *testing.T) {
	t.Parallel()
	tg := buildTargetFor(t)
	eachBuilder(t, tg, func(t *testing.T, b builderCLI) {
		tok := token()
		dir := buildContext(t, map[string]string{
			"Dockerfile":    "FROM busybox\nCOPY a.txt /a\nRUN cat /a > /ra\nCOPY b.txt /b\nRUN cat /b > /rb\nCOPY . /all/\n",
			"a.txt":         "a " + tok + "\n",
			"b.txt":         "b " + tok + "\n",
			"ignored.txt":   "ignored\n",
			".dockerignore": "ignored.txt\n",
		})
		ref := b.tag(t, "cache")
		all := []string{"COPY a.txt /a", "RUN cat /a > /ra", "COPY b.txt /b", "RUN cat /b > /rb", "COPY . /all/"}
		build := func(what string, cached ...string) string {
			t.Helper()
			out := b.buildOK(t, dir, "-t", ref).Stderr
			steps := layerSteps(out)
			for _, s := range all {
				got, ok := steps[s]
				if !ok {
					t.Errorf("%s: no step %q in the progress:\n%s", what, s, out)
					continue
				}
				if want := slicesContains(cached, s); got != want {
					t.Errorf("%s: step %q CACHED=%v, want %v\nsteps:\n%s", what, s, got, want, stepNames(buildSteps(out)))
				}
			}
			return b.ok(t, "image", "inspect", "-f", "{{.Id}}", ref)
		}
		id1 := build("first build")
		if got := runIn(t, b, ref, "cat /rb; ls -A /all"); got != "b "+tok+"\n.dockerignore\nDockerfile\na.txt\nb.txt" {
			t.Errorf("first build's files: %q", got)
		}
		if id := build("rebuild without change", all...); id != id1 {
			t.Errorf("a fully cached rebuild made image %s, want %s", id, id1)
		}
		future := time.Now().Add(time.Hour)
		if err := os.Chtimes(filepath.Join(dir, "a.txt"), future, future); err != nil {
			t.Fatal(err)
		}
		if id := build("after touching a.txt", all...); id != id1 {
			t.Errorf("touching a file changed the image: %s, want %s", id, id1)
		}
		if err := os.WriteFile(filepath.Join(dir, "ignored.txt"), []byte("changed "+tok), 0o644); err != nil {
			t.Fatal(err)
		}
		if id := build("after changing an ignored file", all...); id != id1 {
			t.Errorf("changing an ignored file changed the image: %s, want %s", id, id1)
		}
		if err := os.WriteFile(filepath.Join(dir, "b.txt"), []byte("b changed "+tok+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if id := build("after changing b.txt", "COPY a.txt /a", "RUN cat /a > /ra"); id == id1 {
			t.Errorf("changing b.txt kept image %s", id)
		}
		if got := runIn(t, b, ref, "cat /ra /rb"); got != "a "+tok+"\nb changed "+tok {
			t.Errorf("after changing b.txt: %q", got)
		}
		if err := os.WriteFile(filepath.Join(dir, "c.txt"), []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
		build("after adding c.txt", "COPY a.txt /a", "RUN cat /a > /ra", "COPY b.txt /b", "RUN cat /b > /rb")
		// --no-cache runs everything again
		out := b.buildOK(t, dir, "-t", ref, "--no-cache").Stderr
		for s, cached := range layerSteps(out) {
			if cached {
				t.Errorf("--no-cache: step %q was CACHED", s)
			}
		}
	})
}

func slicesContains(list []string, s string) bool { return contains(list, s) }

// TestBuildCacheMountPersists checks that a RUN --mount=type=cache sees what
// earlier builds left there, also after berthd restarts.
func TestBuildCacheMountPersists(t *testing.T) {
	t.Parallel()
	tg := buildTargetFor(t)
	if tg.d != nil {
		tg = ownBuildTarget(t)
	}
	eachBuilder(t, tg, func(t *testing.T, b builderCLI) {
		id := "it-cache-" + token()
		dir := buildContext(t, map[string]string{
			"Dockerfile": "FROM busybox\nARG N\nRUN --mount=type=cache,id=" + id + ",target=/c sh -c 'echo $N >> /c/log; cat /c/log > /seen'\n",
		})
		ref := b.tag(t, "cachemount")
		step := func(n, want string) {
			t.Helper()
			b.buildOK(t, dir, "-t", ref, "--build-arg", "N="+n)
			if got := runIn(t, b, ref, "cat /seen"); got != want {
				t.Errorf("build N=%s: the cache mount held %q, want %q", n, got, want)
			}
		}
		step("1", "1")
		step("2", "1\n2")
		if tg.d == nil {
			t.Logf("against a dockerd: no restart")
			return
		}
		tg.d.Restart(t)
		step("3", "1\n2\n3")
	})
}

// TestBuildPush builds and pushes to a local registry in one go, then pulls
// the image back and runs it.
func TestBuildPush(t *testing.T) {
	t.Parallel()
	reg := testutil.StartRegistry(t)
	tg := buildTargetFor(t)
	eachBuilder(t, tg, func(t *testing.T, b builderCLI) {
		tok := token()
		dir := buildContext(t, map[string]string{
			"Dockerfile": "FROM busybox\nRUN echo " + tok + " > /pushed\nCMD [\"cat\", \"/pushed\"]\n",
		})
		path := unique("pushed-" + b.name)
		ref := reg.Host + "/" + path + ":v1"
		t.Cleanup(func() { b.run(t, "rmi", "-f", ref) })
		b.buildOK(t, dir, "-t", ref, "--push")
		// buildx pushes an index (the image and its provenance attestation)
		if dgst := manifestOrIndexDigest(t, reg, path, "v1"); !strings.HasPrefix(dgst, "sha256:") {
			t.Fatalf("the registry has no manifest for %s", ref)
		}
		b.ok(t, "rmi", "-f", ref)
		b.ok(t, "pull", ref)
		if got := b.ok(t, "run", "--rm", "--network", "none", ref); got != tok {
			t.Errorf("run of the pushed image: %q, want %q", got, tok)
		}
	})
}

// manifestOrIndexDigest asks the registry which digest a tag has, accepting
// a single manifest or an index.
func manifestOrIndexDigest(t testing.TB, r *testutil.Registry, repoPath, tag string) string {
	t.Helper()
	return registryDigestAccepting(t, r, repoPath, tag,
		"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.oci.image.index.v1+json")
}
