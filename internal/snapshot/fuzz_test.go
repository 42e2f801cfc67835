package snapshot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/testutil/tarscript"
)

// baseLayer is the parent every fuzzed layer is unpacked on: files to
// overwrite, and symlinks a child layer could try to write through.
const baseLayer = `d|etc
f|etc/passwd|root:x:0:0::/root:/bin/sh
d|bin
f|bin/sh|#!|0755
l|up|../../../..
l|abs|@OUT@
l|root|/
h|etc/hard|etc/passwd
`

// FuzzLayerScript unpacks a layer described by a tarscript (entries with
// "..", absolute paths, symlink and hardlink escapes, devices, huge sizes)
// on a parent layer, with every snapshotter this user can run: whatever the
// outcome, nothing outside the new snapshot may change, neither the parent
// snapshot nor a folder beside the store.
func FuzzLayerScript(f *testing.F) {
	for _, s := range []string{
		"f|../escape|x",
		"f|../../outside/pwned|x",
		"f|/@OUT@/pwned|x",
		"f|@OUT@/pwned|x",
		"l|x|@OUT@\nf|x/pwned|x",
		"l|x|../../../outside\nf|x/pwned|x",
		"f|abs/pwned|x",
		"f|up/outside/pwned|x",
		"f|root/tmp/pwned|x",
		"l|x|@OUT@/secret\nf|x|overwritten",
		"h|x|@OUT@/secret\nf|x|overwritten",
		"h|x|../../outside/secret",
		"h|x|abs/secret",
		"h|x|etc/passwd\nf|x|overwritten",
		"f|etc/passwd|overwritten",
		"f|abs/.wh.secret|",
		"f|.wh.abs|\nd|abs\nf|abs/x|y",
		"f|../.wh.outside|",
		"f|up/.wh..wh..opq|",
		"d|abs/.wh..wh..opq",
		"f|.wh...|",
		"c|null|1:3",
		"b|sda|8:0",
		"c|abs/null|1:3",
		"p|fifo",
		"f|big|x||1099511627776",
		"f|" + strings.Repeat("a/", 200) + "deep|x",
		"f|" + strings.Repeat("n", 300) + "|x",
		"l|long|" + strings.Repeat("../", 100),
		"x|etc/passwd|trusted.overlay.opaque=y",
		"x|attr|security.capability=\x01",
		"g|GNU.sparse.major=1",
		"d|etc|0000\nf|etc/x|y",
		"f|etc/passwd/x|y",
		"d|.",
		"f|./|x",
		"l|.|@OUT@\nf|pwned|x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		checkLayer(t, func(out string) []byte {
			return tarscript.Build(script, tarscript.Subst{Outside: out})
		})
	})
}

// FuzzLayerTar is FuzzLayerScript on raw archive bytes, for what the script
// cannot say: broken headers, odd formats, compressed streams.
func FuzzLayerTar(f *testing.F) {
	for _, s := range []string{"f|a|b\nd|c\nl|d|a", "f|../x|y", "h|x|@OUT@/secret", "f|big|x||4096"} {
		f.Add(tarscript.Build([]byte(s), tarscript.Subst{Outside: "/nonexistent-outside"}))
	}
	f.Add([]byte{})
	f.Add(make([]byte, 1024))
	f.Fuzz(func(t *testing.T, data []byte) {
		if tarscript.HugeSparse(data) {
			t.Skip("sparse entry of more than 16 MiB: a known limit, see tarscript.HugeSparse")
		}
		checkLayer(t, func(string) []byte { return data })
	})
}

// checkLayer unpacks the layer layerFor returns (given the absolute path of
// a folder it must not touch) with each snapshotter on a fresh store.
func checkLayer(t *testing.T, layerFor func(outside string) []byte) {
	impls := map[string]func(root string) (Snapshotter, error){
		"copy": func(root string) (Snapshotter, error) { return NewCopy(root) },
	}
	if os.Geteuid() == 0 {
		// overlay's whiteouts are 0/0 devices and trusted xattrs: root only
		impls["overlay"] = func(root string) (Snapshotter, error) { return NewOverlay(root) }
	}
	for name, open := range impls {
		base := t.TempDir()
		tarscript.Removable(t, base)
		out, root := filepath.Join(base, "outside"), filepath.Join(base, "store")
		if err := tarscript.Canary(out); err != nil {
			t.Fatal(err)
		}
		sn, err := open(root)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		parent, err := sn.Unpack(ctx, "", bytes.NewReader(tarscript.Build([]byte(baseLayer), tarscript.Subst{Outside: out})), "")
		if err != nil {
			t.Fatalf("%s: base layer: %v", name, err)
		}
		before, err := tarscript.Tree(base)
		if err != nil {
			t.Fatal(err)
		}
		info, err := sn.Unpack(ctx, parent.Key, bytes.NewReader(layerFor(out)), "")
		if err == nil && info.Key != ChainID(parent.Key, info.DiffID) {
			t.Fatalf("%s: key %s is not the chain ID of %s on %s", name, info.Key, info.DiffID, parent.Key)
		}
		var newDir string
		if err == nil {
			newDir = filepath.Join("store", info.Key.Encoded())
		}
		diffs, terr := tarscript.Unchanged(before, base, func(rel string) bool {
			return rel == "store" || (newDir != "" && (rel == newDir || strings.HasPrefix(rel, newDir+"/")))
		})
		if terr != nil {
			t.Fatal(terr)
		}
		if len(diffs) > 0 {
			t.Fatalf("%s: unpacking the layer (err %v) changed what is not its snapshot:\n%s", name, err, strings.Join(diffs, "\n"))
		}
		if err == nil {
			checkInside(t, name, root, info.Key)
		}
	}
}

// checkInside walks the new snapshot: every symlink may point anywhere
// (it is resolved in the container), but no regular file may be a
// hardlink shared with a file outside the snapshot.
func checkInside(t *testing.T, name, root string, key digest.Digest) {
	diff := filepath.Join(root, key.Encoded(), "diff")
	err := filepath.Walk(diff, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if _, links := inode(fi); fi.Mode().IsRegular() && links > 1 {
			// every other link must be inside this diff
			if countLinks(diff, fi) != links {
				return errors.New(p + ": hardlinked outside the snapshot")
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s: %v", name, err)
	}
}

// countLinks counts the paths below dir that are the same file as fi.
func countLinks(dir string, fi os.FileInfo) uint64 {
	var n uint64
	_ = filepath.Walk(dir, func(_ string, other os.FileInfo, err error) error {
		if err == nil && os.SameFile(fi, other) {
			n++
		}
		return nil
	})
	return n
}
