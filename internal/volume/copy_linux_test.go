package volume

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestCopyUp(t *testing.T) {
	rootfs, dst := t.TempDir(), t.TempDir()
	src := filepath.Join(rootfs, "srv")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "f"), []byte("content"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/f", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(src, 0o711); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		// ownership can only be given away by root
		if err := os.Lchown(filepath.Join(src, "sub", "f"), 65534, 65533); err != nil {
			t.Fatal(err)
		}
	}
	if err := CopyUp(rootfs, "/srv", dst); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dst, "link")); err != nil || string(got) != "content" {
		t.Fatalf("copied content through link = %q, %v", got, err)
	}
	for name, want := range map[string]os.FileMode{".": 0o711, "sub": 0o750, "sub/f": 0o640} {
		fi, err := os.Stat(filepath.Join(dst, name))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", name, fi.Mode().Perm(), err, want)
		}
	}
	if root {
		fi, err := os.Lstat(filepath.Join(dst, "sub", "f"))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65533 {
			t.Errorf("owner %d:%d, want 65534:65533", st.Uid, st.Gid)
		}
	}
	// a volume that holds anything is left alone
	if err := os.WriteFile(filepath.Join(src, "new"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CopyUp(rootfs, "/srv", dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "new")); !os.IsNotExist(err) {
		t.Errorf("copied into a volume that was not empty: %v", err)
	}
	// a missing source copies nothing
	if err := CopyUp(rootfs, "/missing", t.TempDir()); err != nil {
		t.Errorf("missing source: %v", err)
	}
	// a link out of the root filesystem is not followed
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(rootfs, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(rootfs, "abs")); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/escape", "/abs" + outside, "/../" + outside} {
		vol := t.TempDir()
		if err := CopyUp(rootfs, target, vol); err != nil {
			t.Errorf("%s: %v", target, err)
		}
		if entries, _ := os.ReadDir(vol); len(entries) != 0 {
			t.Errorf("%s: copied %d entries from outside the root filesystem", target, len(entries))
		}
	}
}
