package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// layered is a two-layer image: the top layer deletes a file and makes a
// directory opaque.
func layered(t *testing.T) (base, top []byte) {
	base = tarOf(t, file{name: "etc/"}, file{name: "etc/keep", body: "keep"}, file{name: "etc/gone", body: "gone"},
		file{name: "dir/"}, file{name: "dir/old", body: "old"})
	top = tarOf(t, file{name: "etc/.wh.gone"}, file{name: "dir/"}, file{name: "dir/.wh..wh..opq"}, file{name: "dir/new", body: "new"})
	return base, top
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
	return out
}

func TestLoadFormatsAndWhiteouts(t *testing.T) {
	ctx := context.Background()
	base, top := layered(t)
	for _, legacy := range []bool{true, false} {
		name := map[bool]string{true: "docker 20.10 layout", false: "docker 25 layout"}[legacy]
		t.Run(name, func(t *testing.T) {
			s, _ := newStore(t)
			arc, id := dockerArchive(t, legacy, []string{"img:1", "localhost:5000/img:2"}, base, top, base)
			var lines []string
			if err := s.Load(ctx, bytes.NewReader(arc), func(l string) { lines = append(lines, l) }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(lines, []string{"Loaded image: img:1", "Loaded image: localhost:5000/img:2"}) {
				t.Fatalf("progress = %q", lines)
			}
			img, err := s.Get(ctx, "img:1")
			if err != nil || img.ID != id.String() {
				t.Fatalf("Get = %+v, %v", img, err)
			}
			// A container on it sees the whiteouts applied over the lower layer.
			m, err := s.PrepareRootfs(ctx, img.ID, "ctr")
			if err != nil {
				t.Fatal(err)
			}
			target := rootfs(t, m)
			defer func() {
				if err := s.RemoveRootfs(ctx, "ctr"); err != nil {
					t.Error(err)
				}
				if err := s.RemoveRootfs(ctx, "ctr"); err != nil {
					t.Errorf("second RemoveRootfs: %v", err)
				}
			}()
			// The third layer re-adds etc/gone and dir/old.
			if got := names(t, filepath.Join(target, "etc")); !slices.Equal(got, []string{"gone", "keep"}) {
				t.Errorf("etc = %v", got)
			}
			if got := names(t, filepath.Join(target, "dir")); !slices.Equal(got, []string{"new", "old"}) {
				t.Errorf("dir = %v", got)
			}
		})
	}
}

func TestWhiteoutHidesLowerFile(t *testing.T) {
	ctx := context.Background()
	s, root := newStore(t)
	base, top := layered(t)
	arc, id := dockerArchive(t, false, nil, base, top)
	var lines []string
	if err := s.Load(ctx, bytes.NewReader(arc), func(l string) { lines = append(lines, l) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lines, []string{"Loaded image ID: " + id.String()}) {
		t.Fatalf("progress = %q", lines)
	}
	m, err := s.PrepareRootfs(ctx, id.String(), "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "containers/c/rw")); err != nil {
		t.Fatal(err)
	}
	target := rootfs(t, m)
	defer s.RemoveRootfs(ctx, "c")
	if _, err := os.Stat(filepath.Join(target, "etc/gone")); !os.IsNotExist(err) {
		t.Errorf("etc/gone still visible: %v", err)
	}
	if got := names(t, filepath.Join(target, "dir")); !slices.Equal(got, []string{"new"}) {
		t.Errorf("opaque dir = %v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "etc/keep")); string(b) != "keep" {
		t.Errorf("etc/keep = %q", b)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	base, top := layered(t)
	arc, id := dockerArchive(t, false, []string{"multi:1"}, base, top)
	if err := s.Load(ctx, bytes.NewReader(arc), nil); err != nil {
		t.Fatal(err)
	}
	imp := mustImport(t, s, "imp:latest", file{name: "x", body: "x"})
	if err := s.Tag(ctx, "imp", "imp", "2"); err != nil {
		t.Fatal(err)
	}
	var out1, out2 bytes.Buffer
	if err := s.Save(ctx, []string{"multi:1", "imp"}, &out1); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, []string{"multi:1", "imp"}, &out2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out1.Bytes(), out2.Bytes()) {
		t.Fatal("save is not deterministic")
	}
	checkSaved(t, out1.Bytes())

	s2, _ := newStore(t)
	var lines []string
	if err := s2.Load(ctx, bytes.NewReader(out1.Bytes()), func(l string) { lines = append(lines, l) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	if !slices.Equal(lines, []string{"Loaded image: imp:2", "Loaded image: imp:latest", "Loaded image: multi:1"}) {
		t.Fatalf("progress = %q", lines)
	}
	for ref, want := range map[string]string{"multi:1": id.String(), "imp:2": imp, "imp": imp} {
		img, err := s2.Get(ctx, ref)
		if err != nil || img.ID != want {
			t.Fatalf("Get(%s) = %v, %v", ref, img, err)
		}
	}
	a, _ := s.Inspect(ctx, "multi:1")
	b, _ := s2.Inspect(ctx, "multi:1")
	if a.Size != b.Size || !slices.Equal(a.RootFS.Layers, b.RootFS.Layers) {
		t.Fatalf("inspect differs: %+v vs %+v", a, b)
	}

	// The OCI layout alone (no manifest.json) loads too, with gzip layers.
	oci := ociOnly(t, out1.Bytes())
	s3, _ := newStore(t)
	if err := s3.Load(ctx, bytes.NewReader(oci), nil); err != nil {
		t.Fatal(err)
	}
	if img, err := s3.Get(ctx, "multi:1"); err != nil || img.ID != id.String() {
		t.Fatalf("OCI load: %v, %v", img, err)
	}
	var resaved bytes.Buffer
	if err := s3.Save(ctx, []string{"multi:1"}, &resaved); err != nil {
		t.Fatalf("save of gzip-stored layers: %v", err)
	}
	checkSaved(t, resaved.Bytes())
}

// checkSaved verifies every blob of a saved archive against its name and
// the layout files docker expects.
func checkSaved(t *testing.T, arc []byte) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(arc))
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %v", h.Name, h.ModTime)
		}
		seen[h.Name] = true
		data, _ := io.ReadAll(tr)
		if d := blobDigest(h.Name); d != "" && digest.FromBytes(data) != d {
			t.Errorf("%s: content digest %s", h.Name, digest.FromBytes(data))
		}
	}
	for _, f := range []string{"index.json", "manifest.json", "oci-layout", "repositories"} {
		if !seen[f] {
			t.Errorf("missing %s", f)
		}
	}
}

// ociOnly rewrites a saved archive as a pure OCI layout with gzip layers.
func ociOnly(t *testing.T, arc []byte) []byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(arc))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Typeflag == tar.TypeReg {
			files[h.Name], _ = io.ReadAll(tr)
		}
	}
	var idx ocispec.Index
	json.Unmarshal(files["index.json"], &idx)
	var out []file
	for i, d := range idx.Manifests {
		var m ocispec.Manifest
		json.Unmarshal(files[blobPath(d.Digest)], &m)
		for j, l := range m.Layers {
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(files[blobPath(l.Digest)])
			zw.Close()
			gd := digest.FromBytes(gz.Bytes())
			out = append(out, file{name: blobPath(gd), body: gz.String()})
			m.Layers[j] = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: gd, Size: int64(gz.Len())}
		}
		out = append(out, file{name: blobPath(m.Config.Digest), body: string(files[blobPath(m.Config.Digest)])})
		mdata, _ := json.Marshal(m)
		md := digest.FromBytes(mdata)
		out = append(out, file{name: blobPath(md), body: string(mdata)})
		idx.Manifests[i].Digest, idx.Manifests[i].Size = md, int64(len(mdata))
	}
	idata, _ := json.Marshal(idx)
	out = append(out, file{name: "index.json", body: string(idata)}, file{name: "oci-layout", body: `{"imageLayoutVersion":"1.0.0"}`})
	return tarOf(t, out...)
}

func TestLoadCorrupt(t *testing.T) {
	ctx := context.Background()
	base, top := layered(t)
	good, _ := dockerArchive(t, false, []string{"img:1"}, base, top)
	// A layer whose content does not match its name and the config's diff ID.
	tampered := bytes.Replace(good, []byte("keep"), []byte("KEEP"), 1)
	tests := map[string][]byte{
		"truncated":       good[:len(good)/2],
		"tampered layer":  tampered,
		"not a tar":       []byte(strings.Repeat("garbage ", 200)),
		"no manifest":     tarOf(t, file{name: "x", body: "y"}),
		"missing layer":   tarOf(t, file{name: "manifest.json", body: `[{"Config":"c.json","RepoTags":["img:1"],"Layers":["nope/layer.tar"]}]`}, file{name: "c.json", body: `{"rootfs":{"type":"layers","diff_ids":["sha256:` + sha(base) + `"]}}`}),
		"layers mismatch": tarOf(t, file{name: "manifest.json", body: `[{"Config":"c.json","Layers":[]}]`}, file{name: "c.json", body: `{"rootfs":{"type":"layers","diff_ids":["sha256:` + sha(base) + `"]}}`}),
	}
	for name, arc := range tests {
		t.Run(name, func(t *testing.T) {
			s, root := newStore(t)
			err := s.Load(ctx, bytes.NewReader(arc), nil)
			if err == nil {
				t.Fatal("corrupt archive loaded")
			}
			if name != "truncated" && !errdefs.IsInvalidArgument(err) {
				t.Errorf("err = %v, want invalid argument", err)
			}
			if list, _ := s.List(ctx, true, nil); len(list) != 0 {
				t.Fatalf("visible images: %+v", list)
			}
			snaps, _ := os.ReadDir(filepath.Join(root, "snapshot"))
			blobs, _ := os.ReadDir(filepath.Join(root, "content", "blobs", "sha256"))
			ingest, _ := os.ReadDir(filepath.Join(root, "content", "ingest"))
			if len(snaps) != 1 || len(blobs) != 0 || len(ingest) != 0 {
				t.Fatalf("leftovers: snapshots %v blobs %v ingest %v", snaps, blobs, ingest)
			}
		})
	}
}
