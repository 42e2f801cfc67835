package image

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/berth-project/berth/internal/testutil/tarscript"
)

// hostileArchives are entries added to a docker-archive after its own, so
// that they may replace its manifest, config or layers with links.
var hostileArchives = []string{
	"",
	"l|manifest.json|@OUT@/secret",
	"l|manifest.json|../../outside/secret",
	"h|manifest.json|/etc/passwd",
	"f|../manifest.json|[]",
	"f|/abs/manifest.json|[]",
	"l|index.json|manifest.json",
	"l|a|b\nl|b|a\nl|manifest.json|a",
	"f|manifest.json|[{\"Config\":\"../../../outside/secret\",\"Layers\":[]}]",
	"f|manifest.json|[{\"Config\":\"@OUT@/secret\",\"Layers\":[\"@OUT@/secret\"]}]",
	"f|manifest.json|[{\"Config\":\"x\",\"RepoTags\":[\"a:b\",\"../x:y\",\"UPPER:x\"]}]\nf|x|{}",
	"f|manifest.json|x||1099511627776",
}

// storeFixture is an image store under base/store beside a canary folder
// base/outside that nothing may touch.
type storeFixture struct {
	s         *Store
	base, out string
	before    map[string]string
}

func newStoreFixture(t *testing.T) *storeFixture {
	base := t.TempDir()
	tarscript.Removable(t, base)
	fx := &storeFixture{base: base, out: filepath.Join(base, "outside")}
	if err := tarscript.Canary(fx.out); err != nil {
		t.Fatal(err)
	}
	fx.s = openStore(t, filepath.Join(base, "store"))
	var err error
	if fx.before, err = tarscript.Tree(fx.out); err != nil {
		t.Fatal(err)
	}
	return fx
}

// check fails when the outside folder changed, or when a failed operation
// left an image, a snapshot, a blob or an ingest file behind.
func (fx *storeFixture) check(t *testing.T, op string, opErr error) {
	diffs, err := tarscript.Unchanged(fx.before, fx.out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		t.Fatalf("%s (err %v) wrote outside the store:\n%s", op, opErr, strings.Join(diffs, "\n"))
	}
	if opErr == nil {
		return
	}
	if ids := fx.s.ImageIDs(context.Background()); len(ids) != 0 {
		t.Fatalf("%s failed (%v) but left images %v", op, opErr, ids)
	}
	root := filepath.Join(fx.base, "store")
	snaps, _ := os.ReadDir(filepath.Join(root, "snapshot"))
	blobs, _ := os.ReadDir(filepath.Join(root, "content", "blobs", "sha256"))
	ingest, _ := os.ReadDir(filepath.Join(root, "content", "ingest"))
	if len(snaps) > 1 || len(blobs) != 0 || len(ingest) != 0 {
		t.Fatalf("%s failed (%v) but left snapshots %v blobs %v ingest %v", op, opErr, snaps, blobs, ingest)
	}
}

// withoutTrailer strips a tar's end-of-archive blocks, so that more entries
// may follow.
func withoutTrailer(b []byte) []byte {
	for len(b) >= 512 && bytes.Count(b[len(b)-512:], []byte{0}) == 512 {
		b = b[:len(b)-512]
	}
	return b
}

// FuzzLoadScript loads a docker-archive (legacy or current layout) whose
// layer is a hostile tarscript and whose own entries are followed by a
// second script's: nothing outside the store may change, and a failed load
// leaves nothing behind.
func FuzzLoadScript(f *testing.F) {
	for i, layer := range tarscript.Hostile {
		f.Add([]byte(layer), []byte(hostileArchives[i%len(hostileArchives)]), i%2 == 0)
	}
	for i, arc := range hostileArchives {
		f.Add([]byte(tarscript.Hostile[0]), []byte(arc), i%2 == 1)
	}
	f.Fuzz(func(t *testing.T, layerScript, archiveScript []byte, legacy bool) {
		fx := newStoreFixture(t)
		subst := tarscript.Subst{Outside: fx.out}
		good, _ := dockerArchive(t, legacy, []string{"fuzz:1"}, tarscript.Build(layerScript, subst))
		arc := append(withoutTrailer(good), tarscript.Build(archiveScript, subst)...)
		err := fx.s.Load(context.Background(), bytes.NewReader(arc), nil)
		fx.check(t, "load", err)
	})
}

// FuzzLoad loads raw archive bytes (tar, compressed or not).
func FuzzLoad(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("garbage"))
	f.Add(tarscript.Build([]byte("f|manifest.json|[]"), tarscript.Subst{}))
	f.Add(tarscript.Build([]byte("f|index.json|{\"manifests\":[{\"digest\":\"sha256:"+strings.Repeat("0", 64)+"\"}]}"), tarscript.Subst{}))
	for i, layer := range tarscript.Hostile[:4] {
		arc, _ := dockerArchive(f, i%2 == 0, []string{"fuzz:1"}, tarscript.Build([]byte(layer), tarscript.Subst{Outside: "/nonexistent"}))
		f.Add(arc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if tarscript.HugeSparse(data) {
			t.Skip("sparse entry of more than 16 MiB: a known limit, see tarscript.HugeSparse")
		}
		fx := newStoreFixture(t)
		err := fx.s.Load(context.Background(), bytes.NewReader(data), nil)
		fx.check(t, "load", err)
	})
}

// FuzzImport imports a hostile rootfs tarscript, with a reference and a
// change given by the fuzzer too.
func FuzzImport(f *testing.F) {
	for i, layer := range tarscript.Hostile {
		f.Add([]byte(layer), []string{"", "fuzz:1", "Fuzz", "a@sha256:" + strings.Repeat("a", 64), "x:" + strings.Repeat("t", 200)}[i%5], []string{"", "CMD [\"sh\"]", "ENV A=", "EXPOSE 80000", "USER", "ONBUILD RUN x", "VOLUME [\""}[i%7])
	}
	f.Fuzz(func(t *testing.T, script []byte, ref, change string) {
		fx := newStoreFixture(t)
		var changes []string
		if change != "" {
			changes = []string{change}
		}
		_, err := fx.s.Import(context.Background(), bytes.NewReader(tarscript.Build(script, tarscript.Subst{Outside: fx.out})), ref, changes, "")
		fx.check(t, "import", err)
	})
}

// FuzzReference names images every way a client may (name[:tag],
// name@digest, ids and id prefixes, with or without "sha256:") in a store
// holding one tagged image: Get, Inspect, Tag and Delete answer with the
// image, or with a not-found or invalid-argument error. A reference that
// Tag accepted then finds the image.
func FuzzReference(f *testing.F) {
	for _, s := range [][3]string{
		{"busybox", "busybox", "1"}, {"busybox:latest", "docker.io/library/x", ""}, {"sha256:", "a/b/c", "t"},
		{"0", "UPPER", "x"}, {"localhost:5000/a@sha256:" + strings.Repeat("a", 64), "sha256", ""},
		{"busybox@sha256:" + strings.Repeat("a", 64), "a", "@"}, {"", "", ""}, {strings.Repeat("a", 300), "x", strings.Repeat("t", 129)},
		{"sha256:" + strings.Repeat("f", 64), "x", "y"}, {":", "a:b", ""}, {"a/../b", "a//b", "-x"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, ref, repo, tag string) {
		s, _ := newStore(t)
		ctx := context.Background()
		id := mustImport(t, s, "busybox:latest", file{name: "f", body: "x"})
		check := func(op string, err error) {
			if err != nil && !errdefs.IsNotFound(err) && !errdefs.IsInvalidArgument(err) && !errdefs.IsConflict(err) {
				t.Fatalf("%s %q: error of no 4xx class: %v", op, ref, err)
			}
		}
		img, err := s.Get(ctx, ref)
		check("get", err)
		if err == nil && img.ID != id {
			t.Fatalf("get %q: %s, want %s", ref, img.ID, id)
		}
		_, err = s.Inspect(ctx, ref)
		check("inspect", err)
		if err := s.Tag(ctx, ref, repo, tag); err == nil {
			target := repo
			if tag != "" {
				target += ":" + tag
			}
			if img, err := s.Get(ctx, target); err != nil || img.ID != id {
				t.Fatalf("tagged %q as %q %q, then get %q: %v", ref, repo, tag, target, err)
			}
		} else {
			check("tag", err)
		}
		_, err = s.Delete(ctx, ref, false, false, func(string) (string, bool, bool) { return "", false, false })
		check("delete", err)
	})
}
