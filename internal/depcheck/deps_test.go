package depcheck

import (
	"crypto/sha256"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/berth-project/berth"

// fence says what one package may link: every package in its import graph
// (or, with direct, in its own import list) must be the standard library or
// match one of allowed (an import path, or a prefix ending in "/...").
type fence struct {
	pkg     string
	direct  bool
	allowed []string
	denied  []string // packages refused even so (a path, or a prefix ending in "/...")
	why     string
}

// moby's API types and what they link themselves.
var apiTypes = []string{
	"github.com/moby/moby/api/...",
	"github.com/containerd/errdefs/...",
	"github.com/distribution/reference/...",
	"github.com/docker/go-units/...",
	"github.com/moby/docker-image-spec/...",
	"github.com/opencontainers/go-digest/...",
	"github.com/opencontainers/image-spec/...",
	"golang.org/x/sys/...",
}

var fences = []fence{
	{
		pkg:     module + "/cmd/berth-init",
		allowed: []string{module + "/cmd/berth-init", "golang.org/x/sys/..."},
		denied:  []string{"net/http", "os/exec"},
		why:     "the init --init bind-mounts into containers stays tiny and static",
	},
	{
		pkg: module + "/cmd/berth-shim",
		allowed: []string{
			module + "/cmd/berth-shim", module + "/internal/shim", module + "/internal/runtime",
			module + "/internal/logfile", module + "/internal/atomicfile", module + "/internal/detachkeys",
			module + "/internal/trace",    // stdlib only: the launcher's half of a traced start
			module + "/internal/pagetrim", // stdlib and x/sys only: drops the binary's pages from an idle shim
			"golang.org/x/sys/...", "github.com/containerd/errdefs",
		},
		denied: []string{"net/http"},
		why:    "one shim runs per container: its memory and start time are per container",
	},
	{
		pkg:     module + "/internal/api",
		allowed: append([]string{module + "/internal/api", module + "/internal/backend", module + "/internal/trace"}, apiTypes...),
		why:     "the API edge sees the engine only through its backend interfaces",
	},
	{
		pkg: module + "/cmd/berth",
		allowed: append([]string{
			module + "/cmd/berth", module + "/internal/cli/...", module + "/internal/registry/credentials", module + "/internal/trace",
			module + "/internal/atomicfile", module + "/internal/detachkeys", module + "/internal/apitls",
			"github.com/moby/moby/client/...", "github.com/moby/term/...", "github.com/spf13/...",
			"golang.org/x/term/...", "github.com/docker/go-connections/...", "github.com/Azure/go-ansiterm/...",
			// the moby client's own dependencies
			"github.com/containerd/errdefs/...", "go.opentelemetry.io/...", "github.com/felixge/httpsnoop",
			"github.com/go-logr/...", "github.com/cespare/xxhash/...", "github.com/Microsoft/go-winio/...",
			// cp's client half is docker's own (the docker CLI links it
			// too): go-archive's copy rules and what it links
			"github.com/moby/go-archive/...", "github.com/klauspost/compress/...", "github.com/moby/patternmatcher/...",
			"github.com/moby/sys/sequential", "github.com/moby/sys/user", "github.com/moby/sys/userns",
			"github.com/containerd/log", "github.com/sirupsen/logrus/...",
		}, apiTypes...),
		why: "the CLI is an API client only; BuildKit's client, gRPC and OpenTelemetry's SDK stay in berth-build, off the path of every other command",
	},
	{
		pkg: module + "/cmd/berth-build",
		allowed: append([]string{
			module + "/cmd/berth-build", module + "/internal/cli/...", module + "/internal/registry/credentials", module + "/internal/trace",
			module + "/internal/atomicfile", module + "/internal/detachkeys", module + "/internal/apitls",
			"github.com/moby/moby/client/...", "github.com/moby/term/...", "github.com/spf13/...",
			"golang.org/x/term/...", "github.com/docker/go-connections/...", "github.com/Azure/go-ansiterm/...",
			"github.com/containerd/errdefs/...", "go.opentelemetry.io/...", "github.com/felixge/httpsnoop",
			"github.com/go-logr/...", "github.com/cespare/xxhash/...", "github.com/Microsoft/go-winio/...",
			"github.com/moby/go-archive/...", "github.com/klauspost/compress/...", "github.com/moby/patternmatcher/...",
			"github.com/moby/sys/...", "github.com/containerd/log/...", "github.com/sirupsen/logrus/...",
			// BuildKit's client (session, progress display) and what it links
			"github.com/moby/buildkit/...", "google.golang.org/grpc/...", "google.golang.org/protobuf/...",
			"google.golang.org/genproto/...", "github.com/grpc-ecosystem/...", "github.com/planetscale/vtprotobuf/...",
			"github.com/containerd/containerd/...", "github.com/containerd/console", "github.com/containerd/continuity/...",
			"github.com/containerd/platforms", "github.com/containerd/ttrpc", "github.com/containerd/typeurl/...",
			"github.com/docker/cli/cli/config/...", "github.com/docker/docker-credential-helpers/...",
			"github.com/tonistiigi/...", "github.com/morikuni/aec", "github.com/pkg/errors", "github.com/gofrs/flock",
			"github.com/google/shlex", "github.com/google/uuid", "github.com/hashicorp/go-cleanhttp", "github.com/moby/locker",
			"github.com/in-toto/...", "github.com/secure-systems-lab/...", "github.com/shibumi/go-pathspec",
			"golang.org/x/net/...", "golang.org/x/sync/...", "golang.org/x/text/...", "golang.org/x/time/...", "golang.org/x/crypto/...",
		}, apiTypes...),
		// BuildKit's engine is berthd's: the client links none of it
		denied: []string{
			"github.com/moby/buildkit/control", "github.com/moby/buildkit/solver", "github.com/moby/buildkit/solver/llbsolver",
			"github.com/moby/buildkit/worker", "github.com/moby/buildkit/worker/base", "github.com/moby/buildkit/worker/runc",
			"github.com/moby/buildkit/executor/runcexecutor", "github.com/moby/buildkit/cache",
			"github.com/moby/buildkit/frontend/dockerfile/builder", "github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb",
		},
		why: "berth-build is a BuildKit client over the API socket, not a second engine",
	},
	{
		pkg: module + "/cmd/berth-compose",
		// Compose's SDK and whatever it links, from any module but berth's
		allowed: []string{
			module + "/cmd/berth-compose", "github.com/...", "golang.org/...", "google.golang.org/...",
			"go.opentelemetry.io/...", "go.uber.org/...", "go.yaml.in/...", "gopkg.in/...", "gotest.tools/...", "tags.cncf.io/...",
		},
		denied: []string{module + "/internal/..."},
		why:    "berth-compose is Docker Compose over the API socket: it links none of berth's engine or CLI",
	},
	{
		pkg:    module + "/internal/daemon",
		direct: true,
		allowed: append([]string{
			module + "/internal/...",
			"github.com/docker/go-connections/...", "github.com/opencontainers/runtime-spec/...",
			"github.com/moby/term", // detach keys
		}, apiTypes...),
		denied: []string{"net/http", module + "/internal/api", module + "/internal/cli"},
		why:    "the engine composes its parts; it serves no HTTP and makes no HTTP call of its own",
	},
}

func TestDependencyFences(t *testing.T) {
	touchSources(t)
	for _, f := range fences {
		t.Run(strings.TrimPrefix(f.pkg, module+"/"), func(t *testing.T) {
			for _, dep := range imports(t, f) {
				if !allowed(f, dep) {
					t.Errorf("%s links %s, which is not on its allow-list (%s)", f.pkg, dep, f.why)
				}
			}
		})
	}
}

// imports lists what f.pkg links (or imports directly); it fails, never
// skips, when go list cannot answer.
func imports(t *testing.T, f fence) []string {
	args := []string{"list", "-deps", f.pkg}
	if f.direct {
		args = []string{"list", "-f", `{{join .Imports "\n"}}`, f.pkg}
	}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatalf("go %s listed nothing", strings.Join(args, " "))
	}
	return deps
}

func allowed(f fence, dep string) bool {
	for _, d := range f.denied {
		if matches(d, dep) {
			return false
		}
	}
	first, _, _ := strings.Cut(dep, "/")
	if !strings.Contains(first, ".") && first != "vendor" || strings.HasPrefix(dep, "vendor/golang.org/") {
		return true // the standard library and what it vendors
	}
	for _, a := range f.allowed {
		if matches(a, dep) {
			return true
		}
	}
	return false
}

// matches reports whether dep is pattern, or under it when pattern ends
// in "/...".
func matches(pattern, dep string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return dep == prefix || strings.HasPrefix(dep, prefix+"/")
	}
	return dep == pattern
}

// touchSources reads every Go file and go.mod of the module, so that the Go
// test cache keys this test's result on them: an import added anywhere
// re-runs it instead of replaying a stale pass.
func touchSources(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum") {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read the module's sources: %v", err)
	}
}

func TestAllowed(t *testing.T) {
	f := fence{allowed: []string{"example.com/a/...", "example.com/b"}, denied: []string{"net/http", "example.com/a/no/..."}}
	for dep, want := range map[string]bool{
		"fmt": true, "vendor/golang.org/x/net/idna": true, "net/http": false,
		"example.com/a": true, "example.com/a/x": true, "example.com/ab": false,
		"example.com/b": true, "example.com/b/x": false, "example.com/c": false,
		"example.com/a/no": false, "example.com/a/no/x": false, "example.com/a/nope": true,
	} {
		if got := allowed(f, dep); got != want {
			t.Errorf("allowed(%q) = %v, want %v", dep, got, want)
		}
	}
}
