//go:build linux

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
	"github.com/berth-project/berth/internal/testutil/tarscript"
)

// TestHostileImageArchive loads image archives whose layer aims outside its
// snapshot (every script of tarscript.Hostile: "..", absolute paths,
// symlink and hardlink escapes, devices, a terabyte header, over-long
// names), and imports the same layers as rootfs tarballs, with both CLIs:
// each is loaded or refused with an error from the daemon, and the folder
// they aim at is untouched. An image that loaded is there under its tag;
// one that failed left no tag.
func TestHostileImageArchive(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	base := t.TempDir()
	out := filepath.Join(base, "outside")
	if err := tarscript.Canary(out); err != nil {
		t.Fatal(err)
	}
	before, err := tarscript.Tree(out)
	if err != nil {
		t.Fatal(err)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		for i, script := range tarscript.Hostile {
			layer := tarscript.Build([]byte(script), tarscript.Subst{Outside: out})
			img := unique(fmt.Sprintf("hostile%d", i)) + ":v1"
			arc := filepath.Join(base, img+".tar")
			if err := os.WriteFile(arc, tarscript.DockerArchive(layer, img), 0o644); err != nil {
				t.Fatal(err)
			}
			checkHostile(t, c, "load "+script, c.run(t, "load", "-i", arc), img)
			if c.name != "berth" {
				continue // the docker CLI's import sends the same request
			}
			rootfs := filepath.Join(base, img+".rootfs.tar")
			if err := os.WriteFile(rootfs, layer, 0o644); err != nil {
				t.Fatal(err)
			}
			imported := unique(fmt.Sprintf("hostile-import%d", i)) + ":v1"
			checkHostile(t, c, "import "+script, c.run(t, "import", rootfs, imported), imported)
		}
		diffs, err := tarscript.Unchanged(before, out, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) > 0 {
			t.Fatalf("a hostile archive wrote outside the data root:\n%s", strings.Join(diffs, "\n"))
		}
	})
}

// checkHostile checks one load or import: refused with the daemon's error,
// or done with the image there (removed again).
func checkHostile(t *testing.T, c cli, what string, res *testutil.Result, img string) {
	t.Helper()
	inspect := c.d.Berth(t, "image", "inspect", "-f", "{{.Id}}", img)
	switch {
	case res.ExitCode == 0:
		if inspect.ExitCode != 0 {
			t.Errorf("%s: succeeded but %s is not there: %s", what, img, inspect)
		}
		c.d.Berth(t, "rmi", "-f", img)
	case !strings.Contains(res.Stderr, "Error response from daemon"):
		t.Errorf("%s: failed without the daemon's error: %s", what, res)
	case inspect.ExitCode == 0:
		t.Errorf("%s: failed but left %s: %s", what, img, res)
	}
}
