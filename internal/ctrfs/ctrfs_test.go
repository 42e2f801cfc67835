package ctrfs

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/go-archive"
)

// testFS is a container root with /etc/passwd, links that point out of it
// (absolute and through ..) and a volume mounted at /data.
func testFS(t *testing.T) (*FS, string, string) {
	t.Helper()
	root, vol := t.TempDir(), t.TempDir()
	for _, d := range []string{"etc", "tmp", "data"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("inside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"tmp/pw": "/etc/passwd", "tmp/etc": "/etc", "tmp/up": "../../../../../etc", "tmp/vol": "/data"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	// Packing without chroot lets the tests run unprivileged; the
	// resolution under test is the same.
	pack := func(src string, opts *archive.TarOptions, _ string) (io.ReadCloser, error) {
		return archive.TarWithOptions(src, opts)
	}
	unpack := func(r io.Reader, root string, opts *archive.TarOptions) error {
		return archive.Unpack(r, root, opts)
	}
	return &FS{Root: root, Mounts: []Mount{{Destination: "/data", Source: vol}}, Pack: pack, Unpack: unpack}, root, vol
}

func TestStatResolvesInside(t *testing.T) {
	f, _, _ := testFS(t)
	st, err := f.Stat("/tmp/pw", "c")
	if err != nil || st.LinkTarget != "/etc/passwd" || st.Mode&os.ModeSymlink == 0 {
		t.Fatalf("stat /tmp/pw: %+v %v", st, err)
	}
	st, err = f.Stat("/tmp/up/passwd", "c")
	if err != nil || st.Size != int64(len("inside\n")) {
		t.Fatalf("stat through ..: %+v %v", st, err)
	}
	if _, err := f.Stat("/nope", "c"); !errdefs.IsNotFound(err) || err.Error() != "Could not find the file /nope in container c" {
		t.Errorf("missing path: %v", err)
	}
}

func TestArchiveThroughLinks(t *testing.T) {
	f, _, _ := testFS(t)
	for _, p := range []string{"/tmp/etc/passwd", "/tmp/up/passwd"} {
		rc, _, err := f.Archive(p, "c")
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		hdr, err := tr.Next()
		if err != nil || hdr.Name != "passwd" {
			t.Fatalf("%s: %v %v", p, hdr, err)
		}
		body, _ := io.ReadAll(tr)
		rc.Close()
		if string(body) != "inside\n" {
			t.Errorf("%s gave %q, want the container's file", p, body)
		}
	}
}

func TestExtractStaysInside(t *testing.T) {
	f, root, vol := testFS(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: "/", Mode: 0o777})
	_ = tw.WriteHeader(&tar.Header{Name: "esc/etc/probe", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2})
	_, _ = tw.Write([]byte("ok"))
	_ = tw.WriteHeader(&tar.Header{Name: "file", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2})
	_, _ = tw.Write([]byte("ok"))
	_ = tw.Close()
	data := buf.Bytes()
	for _, dst := range []string{"/tmp/etc", "/tmp/up"} {
		if err := f.Extract(dst, "c", bytes.NewReader(data), ExtractOptions{}); err != nil {
			t.Fatalf("extract to %s: %v", dst, err)
		}
		for _, p := range []string{"etc/file", "etc/probe"} {
			if _, err := os.Stat(filepath.Join(root, p)); err != nil {
				t.Errorf("extract to %s: %s missing in the container: %v", dst, p, err)
			}
		}
	}
	if err := f.Extract("/tmp/vol", "c", bytes.NewReader(data), ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(vol, "file")); err != nil {
		t.Errorf("extract through a link to the volume: %v", err)
	}
	if err := f.Extract("/etc/passwd", "c", bytes.NewReader(data), ExtractOptions{}); err != ErrNotDirectory {
		t.Errorf("extract onto a file: %v", err)
	}
	f.ReadOnlyRoot = true
	if err := f.Extract("/tmp", "c", bytes.NewReader(data), ExtractOptions{}); err == nil {
		t.Error("extract into a read-only root succeeded")
	}
}

func TestExtractReadOnlyMounts(t *testing.T) {
	for _, source := range []string{"folder", ""} {
		f, _, vol := testFS(t)
		if source == "" {
			vol = ""
		}
		f.Mounts = []Mount{{Destination: "/data", Source: vol, ReadOnly: true}}
		err := f.Extract("/tmp/vol", "c", bytes.NewReader(nil), ExtractOptions{})
		if err == nil || err.Error() != "mounted volume is marked read-only" {
			t.Errorf("source %q: extract into a read-only mount: %v", source, err)
		}
		if err := f.Extract("/tmp", "c", bytes.NewReader(nil), ExtractOptions{}); err != nil {
			t.Errorf("source %q: extract beside it: %v", source, err)
		}
	}
}

func TestArchiveHidesKernelFilesystems(t *testing.T) {
	f, root, _ := testFS(t)
	if err := os.MkdirAll(filepath.Join(root, "proc", "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "proc", "1", "status"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.Hide = []string{"/proc"}
	rc, _, err := f.Archive("/", "c")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var names []string
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
	}
	if !slices.Contains(names, "./proc/") || !slices.Contains(names, "./etc/passwd") {
		t.Errorf("archive of / lacks proc/ or etc/passwd: %q", names)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "./proc/1") {
			t.Errorf("archive of / holds %s", n)
		}
	}
}

// archiveNames lists the entries of the archive of p.
func archiveNames(t *testing.T, f *FS, p string) []string {
	t.Helper()
	rc, _, err := f.Archive(p, "c")
	if err != nil {
		t.Fatalf("archive %s: %v", p, err)
	}
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
	}
	return names
}

func TestArchiveNames(t *testing.T) {
	f, _, vol := testFS(t)
	if err := os.WriteFile(filepath.Join(vol, "v"), []byte("v"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want []string
	}{
		{"/etc", []string{"etc/", "etc/passwd"}},
		{"/etc/.", []string{"./", "./passwd"}},
		{"/tmp/etc/", []string{"etc/", "etc/passwd"}}, // a link with "/" is followed
		{"/tmp/etc", []string{"etc"}},                 // without, the link itself
		{"/data", []string{"data/", "data/v"}},        // the root of a volume
		{"/tmp/vol/.", []string{"./", "./v"}},
	}
	for _, tt := range tests {
		if got := archiveNames(t, f, tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("archive %s: %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestFileMount(t *testing.T) {
	f, _, _ := testFS(t)
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.Mounts = append(f.Mounts, Mount{Destination: "/etc/hosts", Source: hosts})
	st, err := f.Stat("/etc/hosts", "c")
	if err != nil || st.Name != "hosts" || st.Size != int64(len("127.0.0.1 localhost\n")) {
		t.Fatalf("stat of a bind-mounted file: %+v %v", st, err)
	}
	if got := archiveNames(t, f, "/etc/hosts"); !slices.Equal(got, []string{"hosts"}) {
		t.Errorf("archive of a bind-mounted file: %q", got)
	}
	if err := f.Extract("/etc/hosts", "c", bytes.NewReader(nil), ExtractOptions{}); err != ErrNotDirectory {
		t.Errorf("extract onto a bind-mounted file: %v", err)
	}
}

// TestSwapRaceStaysInside is CVE-2018-15664's race against the real,
// chrooted pack and unpack: while a folder of the container is swapped
// for a link to a host folder (absolute) and back, copies into and out of
// it never write to nor read from the host folder.
func TestSwapRaceStaysInside(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	root, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, link := filepath.Join(root, "w"), filepath.Join(root, "w.swap")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("inside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	swapped := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				swapped <- n
				return
			default:
			}
			if swapErr := exchange(dir, link); swapErr == nil {
				n++
			}
		}
	}()
	f := &FS{Root: root}
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	_ = tw.WriteHeader(&tar.Header{Name: "pwned", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("x\n"))
	_ = tw.Close()
	for range 300 {
		_ = f.Extract("/w", "c", bytes.NewReader(tarball.Bytes()), ExtractOptions{})
		rc, _, err := f.Archive("/w/secret", "c")
		if err != nil {
			continue
		}
		tr := tar.NewReader(rc)
		if _, err := tr.Next(); err == nil {
			if body, _ := io.ReadAll(tr); strings.Contains(string(body), "host") {
				t.Errorf("a copy out of the container read the host's file")
			}
		}
		rc.Close()
	}
	close(stop)
	if n := <-swapped; n < 100 {
		t.Logf("only %d swaps during the copies", n)
	}
	if _, err := os.Stat(filepath.Join(outside, "pwned")); err == nil {
		t.Error("a copy into the container wrote to the host's folder")
	}
}
