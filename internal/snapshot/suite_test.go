package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

// entry is one tar entry of a test layer: a name ending in "/" is a directory.
type entry struct {
	name, body string
}

func layerTar(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.name[len(e.name)-1] == '/' {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func requireRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
}

// mounted mounts m on a fresh directory and unmounts it when the test ends.
func mounted(t *testing.T, m Mount) string {
	t.Helper()
	target := t.TempDir()
	if err := m.MountAt(target); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Unmount(target); err != nil {
			t.Error(err)
		}
	})
	return target
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSnapshotters runs the same behaviours against every snapshotter.
func TestSnapshotters(t *testing.T) {
	impls := map[string]func(root string) (Snapshotter, error){
		"overlay": func(root string) (Snapshotter, error) { return NewOverlay(root) },
		"copy":    func(root string) (Snapshotter, error) { return NewCopy(root) },
	}
	for name, open := range impls {
		t.Run(name, func(t *testing.T) {
			requireRoot(t)
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					root := t.TempDir()
					sn, err := open(root)
					if err != nil {
						t.Fatal(err)
					}
					tc.run(t, sn, root, open)
				})
			}
		})
	}
}

var suite = []struct {
	name string
	run  func(t *testing.T, sn Snapshotter, root string, open func(string) (Snapshotter, error))
}{
	{"whiteouts and opaque dirs", testWhiteouts},
	{"unpack twice", testUnpackTwice},
	{"missing parent", testMissingParent},
	{"corrupt layer leaves nothing", testCorrupt},
	{"remove", testRemove},
	{"empty rootfs", testEmpty},
	{"reopen cleans leftovers", testReopen},
	{"many layers", testManyLayers},
	{"changes and diff of a rw layer", testChangesDiff},
	{"mount points alone are no change", testChangesMountPointsOnly},
}

func testChangesDiff(t *testing.T, sn Snapshotter, root string, _ func(string) (Snapshotter, error)) {
	ctx := context.Background()
	base, rw, fs := preparedRW(t, sn)
	for _, step := range []error{
		os.WriteFile(filepath.Join(fs, "etc", "keep"), []byte("changed"), 0o644),
		os.Remove(filepath.Join(fs, "etc", "gone")),
		os.WriteFile(filepath.Join(fs, "new"), []byte("new"), 0o644),
		os.Mkdir(filepath.Join(fs, "proc"), 0o555),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	exclude := []string{"/proc"}
	changes, err := sn.Changes(ctx, base, rw, exclude)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	sort.Strings(got)
	want := []string{"A /new", "C /etc", "C /etc/keep", "D /etc/gone"}
	if !equal(got, want) {
		t.Errorf("changes = %q, want %q", got, want)
	}
	diff, err := sn.Diff(ctx, base, rw, exclude)
	if err != nil {
		t.Fatal(err)
	}
	info, err := sn.Unpack(ctx, base, diff, "")
	diff.Close()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := sn.Prepare(ctx, info.Key, filepath.Join(t.TempDir(), "rw2"))
	if err != nil {
		t.Fatal(err)
	}
	fs2 := mounted(t, m2)
	if got := names(t, fs2); !equal(got, []string{"dir", "etc", "new"}) {
		t.Errorf("committed layer shows %q", got)
	}
	if got := names(t, filepath.Join(fs2, "etc")); !equal(got, []string{"keep"}) {
		t.Errorf("committed layer's etc shows %q", got)
	}
	if data, _ := os.ReadFile(filepath.Join(fs2, "etc", "keep")); string(data) != "changed" {
		t.Errorf("etc/keep = %q", data)
	}
}

func baseTar(t *testing.T) *bytes.Buffer {
	return layerTar(t, entry{"etc/", ""}, entry{"etc/keep", "keep"}, entry{"etc/gone", "gone"},
		entry{"dir/", ""}, entry{"dir/old1", "1"}, entry{"dir/old2", "2"})
}

func unpackBase(t *testing.T, sn Snapshotter) digest.Digest {
	t.Helper()
	data := baseTar(t).Bytes()
	info, err := sn.Unpack(context.Background(), "", bytes.NewReader(data), digest.FromBytes(data))
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Key: digest.FromBytes(data), DiffID: digest.FromBytes(data), TarSize: int64(len(data)), Size: 10}
	if info != want {
		t.Fatalf("info = %+v, want %+v", info, want)
	}
	return info.Key
}

func testWhiteouts(t *testing.T, sn Snapshotter, root string, _ func(string) (Snapshotter, error)) {
	ctx := context.Background()
	base := unpackBase(t, sn)
	layer := layerTar(t, entry{"etc/.wh.gone", ""}, entry{"dir/", ""}, entry{"dir/.wh..wh..opq", ""}, entry{"dir/new", "new"})
	diffID := digest.FromBytes(layer.Bytes())
	info, err := sn.Unpack(ctx, base, layer, "")
	if err != nil {
		t.Fatal(err)
	}
	upper := ChainID(base, diffID)
	if info.Parent != base || info.Key != upper || info.DiffID != diffID {
		t.Fatalf("info = %+v", info)
	}
	rw := filepath.Join(t.TempDir(), "rw")
	m, err := sn.Prepare(ctx, upper, rw)
	if err != nil {
		t.Fatal(err)
	}
	target := mounted(t, m)
	if got := names(t, filepath.Join(target, "etc")); !equal(got, []string{"keep"}) {
		t.Errorf("etc = %v, want [keep] (whiteout not honoured)", got)
	}
	if got := names(t, filepath.Join(target, "dir")); !equal(got, []string{"new"}) {
		t.Errorf("dir = %v, want [new] (opaque dir not honoured)", got)
	}
	if b, err := os.ReadFile(filepath.Join(target, "etc/keep")); err != nil || string(b) != "keep" {
		t.Errorf("etc/keep = %q, %v", b, err)
	}
	// Writes go to the rw layer, never into the shared snapshots.
	if err := os.WriteFile(filepath.Join(target, "etc/keep"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Unmount(target); err != nil {
		t.Fatal(err)
	}
	m2, err := sn.Prepare(ctx, base, filepath.Join(t.TempDir(), "rw2"))
	if err != nil {
		t.Fatal(err)
	}
	other := mounted(t, m2)
	if b, _ := os.ReadFile(filepath.Join(other, "etc/keep")); string(b) != "keep" {
		t.Errorf("base layer modified: etc/keep = %q", b)
	}
	if got := names(t, filepath.Join(other, "etc")); !equal(got, []string{"gone", "keep"}) {
		t.Errorf("base etc = %v", got)
	}
	// Preparing the same rw dir again keeps the container's changes.
	m3, err := sn.Prepare(ctx, upper, rw)
	if err != nil {
		t.Fatal(err)
	}
	again := mounted(t, m3)
	if b, _ := os.ReadFile(filepath.Join(again, "etc/keep")); string(b) != "changed" {
		t.Errorf("rw layer lost: etc/keep = %q", b)
	}
	list, err := sn.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v", list, err)
	}
}

func testUnpackTwice(t *testing.T, sn Snapshotter, root string, _ func(string) (Snapshotter, error)) {
	ctx := context.Background()
	base := unpackBase(t, sn)
	info, err := sn.Unpack(ctx, "", baseTar(t), "")
	if err != nil || info.Key != base {
		t.Fatalf("second unpack = %+v, %v", info, err)
	}
	if got := names(t, root); !equal(got, []string{".empty", base.Encoded()}) {
		t.Fatalf("after second unpack: %v", got)
	}
	_, err = sn.Unpack(ctx, "", layerTar(t, entry{"x", "y"}), base)
	if !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("wrong digest: err = %v, want failed precondition", err)
	}
	if got := names(t, root); !equal(got, []string{".empty", base.Encoded()}) {
		t.Fatalf("after bad unpack: %v", got)
	}
}

func testMissingParent(t *testing.T, sn Snapshotter, _ string, _ func(string) (Snapshotter, error)) {
	_, err := sn.Unpack(context.Background(), digest.FromString("nope"), layerTar(t, entry{"x", "y"}), "")
	if !errdefs.IsNotFound(err) {
		t.Fatalf("err = %v, want not found", err)
	}
}

func testCorrupt(t *testing.T, sn Snapshotter, root string, _ func(string) (Snapshotter, error)) {
	good := layerTar(t, entry{"a", "aaaa"}, entry{"b", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}).Bytes()
	bad := good[:3*512+10] // cut inside the second file's data
	if _, err := sn.Unpack(context.Background(), "", bytes.NewReader(bad), ""); err == nil {
		t.Fatal("truncated layer unpacked without error")
	}
	if got := names(t, root); !equal(got, []string{".empty"}) {
		t.Fatalf("leftovers: %v", got)
	}
}

func testRemove(t *testing.T, sn Snapshotter, _ string, _ func(string) (Snapshotter, error)) {
	ctx := context.Background()
	base := unpackBase(t, sn)
	if err := sn.Remove(ctx, base); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Stat(ctx, base); !errdefs.IsNotFound(err) {
		t.Fatalf("Stat after remove = %v", err)
	}
	if err := sn.Remove(ctx, base); err != nil {
		t.Fatalf("second remove: %v", err)
	}
}

func testEmpty(t *testing.T, sn Snapshotter, _ string, _ func(string) (Snapshotter, error)) {
	m, err := sn.Prepare(context.Background(), "", filepath.Join(t.TempDir(), "rw"))
	if err != nil {
		t.Fatal(err)
	}
	target := mounted(t, m)
	if got := names(t, target); len(got) != 0 {
		t.Fatalf("empty rootfs has %v", got)
	}
	if err := os.WriteFile(filepath.Join(target, "f"), nil, 0o644); err != nil {
		t.Fatalf("rootfs not writable: %v", err)
	}
}

func testReopen(t *testing.T, sn Snapshotter, root string, open func(string) (Snapshotter, error)) {
	base := unpackBase(t, sn)
	if err := os.MkdirAll(filepath.Join(root, tmpPrefix+"crashed", "diff"), 0o755); err != nil {
		t.Fatal(err)
	}
	sn2, err := open(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, root); !equal(got, []string{".empty", base.Encoded()}) {
		t.Fatalf("after reopen: %v", got)
	}
	if _, err := sn2.Stat(context.Background(), base); err != nil {
		t.Fatal(err)
	}
}

func TestUnmountNotMounted(t *testing.T) {
	requireRoot(t)
	if err := Unmount(t.TempDir()); err != nil {
		t.Fatalf("unmount of a plain dir: %v", err)
	}
	if err := Unmount(filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Fatalf("unmount of a missing dir: %v", err)
	}
}

func testManyLayers(t *testing.T, sn Snapshotter, _ string, _ func(string) (Snapshotter, error)) {
	ctx := context.Background()
	var parent digest.Digest
	const n = 80 // with full paths the overlay options would exceed a page
	for i := 0; i < n; i++ {
		info, err := sn.Unpack(ctx, parent, layerTar(t, entry{fmt.Sprintf("f%02d", i), "x"}), "")
		if err != nil {
			t.Fatal(err)
		}
		parent = info.Key
	}
	m, err := sn.Prepare(ctx, parent, filepath.Join(t.TempDir(), "rw"))
	if err != nil {
		t.Fatal(err)
	}
	target := mounted(t, m)
	if got := names(t, target); len(got) != n {
		t.Fatalf("%d files visible, want %d", len(got), n)
	}
}

// preparedRW unpacks the base image and prepares a mounted rw layer over
// it: the base's key, the rw layer's folder and its mounted filesystem.
func preparedRW(t *testing.T, sn Snapshotter) (base digest.Digest, rw, fs string) {
	t.Helper()
	base = unpackBase(t, sn)
	rw = filepath.Join(t.TempDir(), "rw")
	m, err := sn.Prepare(context.Background(), base, rw)
	if err != nil {
		t.Fatal(err)
	}
	return base, rw, mounted(t, m)
}

// testChangesMountPointsOnly: the runtime's mount points (a file added in
// an image folder, a new folder holding only one) are no change of the
// container's, as with docker's init layer.
func testChangesMountPointsOnly(t *testing.T, sn Snapshotter, root string, _ func(string) (Snapshotter, error)) {
	ctx := context.Background()
	base, rw, fs := preparedRW(t, sn)
	for _, step := range []error{
		os.WriteFile(filepath.Join(fs, "etc", "hosts"), nil, 0o644),
		os.Mkdir(filepath.Join(fs, "sbin"), 0o755),
		os.WriteFile(filepath.Join(fs, "sbin", "docker-init"), nil, 0o755),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	changes, err := sn.Changes(ctx, base, rw, []string{"/etc/hosts", "/sbin/docker-init"})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("changes = %v, want none", changes)
	}
	if err := os.WriteFile(filepath.Join(fs, "sbin", "mine"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	changes, err = sn.Changes(ctx, base, rw, []string{"/etc/hosts", "/sbin/docker-init"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.String())
	}
	sort.Strings(got)
	if want := []string{"A /sbin", "A /sbin/mine"}; !equal(got, want) {
		t.Errorf("changes = %q, want %q", got, want)
	}
}
