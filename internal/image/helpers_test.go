package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-project/berth/internal/snapshot"
)

// file is one tar entry of a test layer: a name ending in "/" is a directory,
// link set makes a symlink.
type file struct {
	name, body, link string
}

func tarOf(t testing.TB, files ...file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(f.body)), ModTime: time.Unix(1, 0)}
		switch {
		case strings.HasSuffix(f.name, "/"):
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case f.link != "":
			h.Typeflag, h.Linkname, h.Size, h.Mode = tar.TypeSymlink, f.link, 0, 0o777
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// newStore opens a store in a new folder, on the plain-copy snapshotter so
// that the tests run without root.
func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	root := t.TempDir()
	return openStore(t, root), root
}

// openStore opens (again) the store at root.
func openStore(t *testing.T, root string) *Store {
	t.Helper()
	sn, err := snapshot.NewCopy(filepath.Join(root, "snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(root, WithSnapshotter(sn), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rootfs is the directory showing a container's root filesystem: the
// copy snapshotter's mount is a bind mount of a full copy, so its source
// is what the container sees, without mounting (and without root).
func rootfs(t *testing.T, m snapshot.Mount) string {
	t.Helper()
	if m.Type != "bind" {
		t.Fatalf("mount %+v: want the copy snapshotter's bind mount", m)
	}
	return m.Source
}

func mustImport(t *testing.T, s *Store, ref string, files ...file) string {
	t.Helper()
	id, err := s.Import(context.Background(), bytes.NewReader(tarOf(t, files...)), ref, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// busyboxRootfs is the test image of DESIGN.md: /bin/busybox, its applet
// links, /etc/passwd and /etc/group.
func busyboxRootfs(t *testing.T) []byte {
	t.Helper()
	bin, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("busybox-static not installed")
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	files := []file{{name: "bin/"}, {name: "bin/busybox", body: string(bin)}, {name: "etc/"}, {name: "tmp/"},
		{name: "etc/passwd", body: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
		{name: "etc/group", body: "root:x:0:\nnogroup:x:65534:\n"}}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			files = append(files, file{name: "bin/" + a, link: "busybox"})
		}
	}
	tarball := tarOf(t, files...)
	// busybox's mode must be executable.
	return rewrite(t, tarball, "bin/busybox", 0o755)
}

// rewrite copies a tar, changing one entry's mode.
func rewrite(t *testing.T, tarball []byte, name string, mode int64) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(tarball))
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Name == name {
			h.Mode = mode
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		if _, err := body.ReadFrom(tr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// dockerArchive builds a docker-archive. legacy uses docker 20.10's
// <id>/layer.tar layout (with a symlink for a repeated layer); otherwise
// docker 25's blobs/sha256 layout.
func dockerArchive(t testing.TB, legacy bool, tags []string, layers ...[]byte) (archive []byte, id digest.Digest) {
	t.Helper()
	var diffIDs []digest.Digest
	for _, l := range layers {
		diffIDs = append(diffIDs, digest.FromBytes(l))
	}
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := map[string]any{
		"architecture": "amd64", "os": "linux", "created": created,
		"config": map[string]any{"Cmd": []string{"sh"}, "Env": []string{"PATH=/bin"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	}
	var hist []map[string]any
	for range layers {
		hist = append(hist, map[string]any{"created": created, "created_by": "ADD layer"})
	}
	cfg["history"] = hist
	raw, _ := json.Marshal(cfg)
	id = digest.FromBytes(raw)
	var files []file
	var layerPaths []string
	seen := map[digest.Digest]string{}
	for i, l := range layers {
		d := diffIDs[i]
		if legacy {
			dir := sha([]byte{byte(i)}) // fake v1 ids
			p := dir + "/layer.tar"
			if prev, ok := seen[d]; ok {
				files = append(files, file{name: dir + "/"}, file{name: p, link: "../" + prev})
			} else {
				files = append(files, file{name: dir + "/"}, file{name: dir + "/VERSION", body: "1.0"}, file{name: dir + "/json", body: "{}"}, file{name: p, body: string(l)})
				seen[d] = p
			}
			layerPaths = append(layerPaths, p)
		} else {
			p := "blobs/sha256/" + d.Encoded()
			if _, ok := seen[d]; !ok {
				files = append(files, file{name: p, body: string(l)})
				seen[d] = p
			}
			layerPaths = append(layerPaths, p)
		}
	}
	cfgPath := id.Encoded() + ".json"
	if !legacy {
		cfgPath = "blobs/sha256/" + id.Encoded()
	}
	files = append(files, file{name: cfgPath, body: string(raw)})
	man, _ := json.Marshal([]manifestItem{{Config: cfgPath, RepoTags: tags, Layers: layerPaths}})
	files = append(files, file{name: "manifest.json", body: string(man)})
	return tarOf(t, files...), id
}
