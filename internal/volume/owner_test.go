package volume

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWithOwner: under --userns-remap a new volume's folder belongs to the
// remapped root, as dockerd's local driver makes it.
func TestWithOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown")
	}
	s, err := Open(filepath.Join(t.TempDir(), "volumes"), WithOwner(100000, 200000))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Create("data", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(v.Mountpoint)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 100000 || st.Gid != 200000 {
		t.Errorf("volume folder is %d:%d, want 100000:200000", st.Uid, st.Gid)
	}
}
