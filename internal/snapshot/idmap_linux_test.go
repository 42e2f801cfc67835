package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/moby/sys/user"
	"github.com/opencontainers/go-digest"
)

// TestOverlayIDMap: with WithIDMap a layer is stored with its owners in the
// host range, the writable view belongs to the mapped root, and a diff
// holds container IDs again.
func TestOverlayIDMap(t *testing.T) {
	requireRoot(t)
	ids := user.IdentityMapping{
		UIDMaps: []user.IDMap{{ID: 0, ParentID: 100000, Count: 65536}},
		GIDMaps: []user.IDMap{{ID: 0, ParentID: 200000, Count: 65536}},
	}
	root := t.TempDir()
	sn, err := NewOverlay(filepath.Join(root, "snapshot"), WithIDMap(ids))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "etc/app", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 1000, Gid: 50},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	_ = tw.Close()
	data := buf.Bytes()
	ctx := context.Background()
	info, err := sn.Unpack(ctx, "", bytes.NewReader(data), digest.FromBytes(data))
	if err != nil {
		t.Fatal(err)
	}
	owner := func(p string) [2]uint32 {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		return [2]uint32{st.Uid, st.Gid}
	}
	diff := filepath.Join(root, "snapshot", info.Key.Encoded(), "diff")
	if got := owner(filepath.Join(diff, "etc")); got != [2]uint32{100000, 200000} {
		t.Errorf("etc stored as %v, want 100000:200000", got)
	}
	if got := owner(filepath.Join(diff, "etc/app")); got != [2]uint32{101000, 200050} {
		t.Errorf("etc/app stored as %v, want 101000:200050", got)
	}

	rw := t.TempDir()
	m, err := sn.Prepare(ctx, info.Key, rw)
	if err != nil {
		t.Fatal(err)
	}
	fs := mounted(t, m)
	if got := owner(fs); got != [2]uint32{100000, 200000} {
		t.Errorf("root of the writable view is %v, want the mapped root", got)
	}
	if err := os.WriteFile(filepath.Join(fs, "new"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(fs, "new"), 100007, 200008); err != nil {
		t.Fatal(err)
	}
	rc, err := sn.Diff(ctx, info.Key, rw, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "new" {
			found = true
			if h.Uid != 7 || h.Gid != 8 {
				t.Errorf("diff has new as %d:%d, want 7:8", h.Uid, h.Gid)
			}
		}
	}
	if !found {
		t.Error("diff lacks new")
	}
}
