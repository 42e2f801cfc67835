package volume

import (
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
	v, err := s.Create("data", map[string]string{"a": "b"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Mountpoint != filepath.Join(root, "data", "_data") || v.Labels["a"] != "b" || v.Anonymous() {
		t.Fatalf("created %+v", v)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
		t.Fatalf("data folder: %v", err)
	}
	again, err := s.Create("data", map[string]string{"other": "x"})
	if err != nil || again != v {
		t.Fatalf("second create = %+v, %v; want the existing volume", again, err)
	}
	anon, err := s.Create("", nil)
	if err != nil || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(anon.Name) || !anon.Anonymous() {
		t.Fatalf("anonymous = %+v, %v", anon, err)
	}
	if _, err := s.Create("a/b", nil); !errdefs.IsInvalidArgument(err) {
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
