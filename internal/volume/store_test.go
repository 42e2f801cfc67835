package volume

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/containerd/errdefs"
)

func TestStore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "volumes")
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Create("data", map[string]string{"a": "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Mountpoint != filepath.Join(root, "data", "_data") || v.Labels["a"] != "b" || v.Anonymous() {
		t.Fatalf("created %+v", v)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
		t.Fatalf("data folder: %v", err)
	}
	again, err := s.Create("data", map[string]string{"other": "x"}, nil)
	if err != nil || again != v {
		t.Fatalf("second create = %+v, %v; want the existing volume", again, err)
	}
	anon, err := s.Create("", nil, nil)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon.Name) || !anon.Anonymous() {
		t.Fatalf("anonymous = %+v, %v", anon, err)
	}
	if _, err := s.Create("a/b", nil, nil); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad name: %v", err)
	}
	// an unfinished creation (no metadata) is not a volume
	if err := os.MkdirAll(filepath.Join(root, "half", "_data"), 0o755); err != nil {
		t.Fatal(err)
	}
	reopened, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := reopened.List(); len(got) != 2 {
		t.Fatalf("reopened list = %+v", got)
	}
	if got, err := reopened.Get("data"); err != nil || got.Labels["a"] != "b" || got.Mountpoint != v.Mountpoint {
		t.Fatalf("reopened data = %+v, %v", got, err)
	}
	if err := reopened.Remove("data"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "data")); !os.IsNotExist(err) {
		t.Errorf("volume folder left: %v", err)
	}
	if _, err := reopened.Get("data"); !errdefs.IsNotFound(err) {
		t.Errorf("get removed: %v", err)
	}
	if err := reopened.Remove("data"); !errdefs.IsNotFound(err) {
		t.Errorf("remove twice: %v", err)
	}
}

func TestCreateOptions(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		opts map[string]string
		err  string
	}{
		{map[string]string{"foo": "bar"}, `create v1: invalid option: "foo"`},
		{map[string]string{"type": "tmpfs"}, `create v1: missing required option: "device"`},
		{map[string]string{"device": "tmpfs"}, `create v1: missing required option: "type"`},
		{map[string]string{"o": "size=1m", "type": "tmpfs"}, `create v1: missing required option: "device"`},
		{map[string]string{"size": "1g"}, "create v1: quota size requested but no quota support"},
	} {
		if _, err := s.Create("v1", nil, tt.opts); err == nil || err.Error() != tt.err || !errdefs.IsInvalidArgument(err) {
			t.Errorf("Create(%v) error = %v, want %q", tt.opts, err, tt.err)
		}
	}
	if _, err := s.Get("v1"); !errdefs.IsNotFound(err) {
		t.Errorf("a refused create left a volume: %v", err)
	}
	opts := map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
	if _, err := s.Create("tmp", nil, opts); err != nil {
		t.Fatal(err)
	}
	again, err := Open(s.root)
	if err != nil {
		t.Fatal(err)
	}
	v, err := again.Get("tmp")
	if err != nil || !maps.Equal(v.Options, opts) {
		t.Errorf("reopened volume %+v, %v; want options %v", v, err, opts)
	}
	// a plain volume has nothing to mount: uses are not tracked
	if _, err := again.Create("plain", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := again.Mount("plain", "c1"); err != nil {
		t.Errorf("Mount of a plain volume: %v", err)
	}
	if err := again.Release("c1"); err != nil {
		t.Errorf("Release: %v", err)
	}
	if err := again.Mount("gone", "c1"); !errdefs.IsNotFound(err) {
		t.Errorf("Mount of a missing volume: %v", err)
	}
}

// TestOpenCollectsIncompleteVolumes: a folder without volume.json is a
// create or remove that a crash cut short; the next Open deletes it and
// keeps every whole volume and anything that is not a folder.
func TestOpenCollectsIncompleteVolumes(t *testing.T) {
	root := filepath.Join(t.TempDir(), "volumes")
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Create("whole", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Mountpoint, "f"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	half := filepath.Join(root, "half", "_data")
	if err := os.MkdirAll(half, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(half, "f"), []byte("going"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "notes"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "half")); !os.IsNotExist(err) {
		t.Errorf("the incomplete volume's folder is left (%v)", err)
	}
	if _, err := s.Get("half"); !errdefs.IsNotFound(err) {
		t.Errorf("get half: %v, want not found", err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "whole", "_data", "f")); err != nil || string(data) != "kept" {
		t.Errorf("whole volume's data: %q %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(root, "notes")); err != nil {
		t.Errorf("a file beside the volumes was removed: %v", err)
	}
}
