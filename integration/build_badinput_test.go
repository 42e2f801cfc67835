//go:build linux

package integration

import (
	"slices"
	"strings"
	"testing"

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
				dir := writeContext(t, files)
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
