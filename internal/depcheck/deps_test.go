package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/berth-project/berth"

// fences lists, per package, the import paths (prefixes) it must never link.
var fences = []struct {
	pkg       string
	forbidden []string
	why       string
}{
	{module + "/cmd/berth-shim", []string{"net/http", "github.com/spf13/cobra", "github.com/google/go-containerregistry", "github.com/moby/buildkit", "github.com/compose-spec", module + "/internal/daemon", module + "/internal/image"}, "one shim runs per container: its memory is per container"},
	{module + "/cmd/berth", []string{module + "/internal/daemon", module + "/internal/image", module + "/internal/shim", module + "/internal/snapshot"}, "the CLI is an API client only"},
	{module + "/internal/api", []string{module + "/internal/daemon", module + "/internal/image", module + "/internal/container", module + "/internal/shim", module + "/internal/snapshot", module + "/internal/oci"}, "the API edge sees the engine only through its backend interfaces"},
	{module + "/internal/daemon", []string{module + "/internal/api", module + "/internal/cli"}, "the engine implements the API's interfaces without importing the HTTP edge"},
}

func TestDependencyFences(t *testing.T) {
	for _, f := range fences {
		t.Run(f.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", f.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", f.pkg, err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				for _, bad := range f.forbidden {
					if dep == bad || strings.HasPrefix(dep, bad+"/") {
						t.Errorf("%s links %s (%s)", f.pkg, dep, f.why)
					}
				}
			}
		})
	}
}
