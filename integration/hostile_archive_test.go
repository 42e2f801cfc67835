//go:build linux

package integration

import (
	"os"
	"path/filepath"
	"strconv"
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
		t.Run("archives", func(t *testing.T) {
			for i, script := range tarscript.Hostile {
				t.Run(strconv.Itoa(i), func(t *testing.T) {
					t.Parallel()
					hostileLoad(t, c, base, script, tarscript.Build([]byte(script), tarscript.Subst{Outside: out}))
				})
			}
		})
		diffs, err := tarscript.Unchanged(before, out, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) > 0 {
			t.Fatalf("a hostile archive wrote outside the data root:\n%s", strings.Join(diffs, "\n"))
		}
	})
}

// hostileLoad loads the layer as an image archive, and with berth imports
// it as a rootfs tarball too (the docker CLI's import sends the same
// request).
func hostileLoad(t *testing.T, c cli, dir, script string, layer []byte) {
	img := unique("hostile") + ":v1"
	arc := filepath.Join(dir, img+".tar")
	if err := os.WriteFile(arc, tarscript.DockerArchive(layer, img), 0o644); err != nil {
		t.Fatal(err)
	}
	checkHostile(t, c, "load "+script, c.run(t, "load", "-i", arc), img)
	if c.name != "berth" {
		return
	}
	rootfs := filepath.Join(dir, img+".rootfs.tar")
	if err := os.WriteFile(rootfs, layer, 0o644); err != nil {
		t.Fatal(err)
	}
	imported := unique("hostile-import") + ":v1"
	checkHostile(t, c, "import "+script, c.run(t, "import", rootfs, imported), imported)
}

// checkHostile checks one load or import: refused with the daemon's
// message (load's arrives in its progress stream, as with docker), or done
// with the image there (removed again).
func checkHostile(t *testing.T, c cli, what string, res *testutil.Result, img string) {
	t.Helper()
	inspect := c.d.Berth(t, "image", "inspect", "-f", "{{.Id}}", img)
	switch {
	case res.ExitCode == 0:
		if inspect.ExitCode != 0 {
			t.Errorf("%s: succeeded but %s is not there: %s", what, img, inspect)
		}
		c.d.Berth(t, "rmi", "-f", img)
	case res.ExitCode != 1 || strings.TrimSpace(res.Stderr) == "":
		t.Errorf("%s: failed without the daemon's message: %s", what, res)
	case inspect.ExitCode == 0:
		t.Errorf("%s: failed but left %s: %s", what, img, res)
	}
}
