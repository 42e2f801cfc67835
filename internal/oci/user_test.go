package oci

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
web:x:1000:1000:web user:/home/web:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`

const testGroup = `root:x:0:
wheel:x:10:root,web
audio:x:29:web
web:x:1000:
nogroup:x:65534:
`

func writeRootfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"passwd": testPasswd, "group": testGroup} {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolveUser(t *testing.T) {
	root := writeRootfs(t)
	tests := []struct {
		spec    string
		want    specs.User
		wantErr string
	}{
		{spec: "", want: specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0, 10}}},
		{spec: "root", want: specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0, 10}}},
		{spec: "web", want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 10, 29}}},
		{spec: "1000", want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 10, 29}}},
		{spec: "web:audio", want: specs.User{UID: 1000, GID: 29, AdditionalGids: []uint32{29}}},
		{spec: "1000:10", want: specs.User{UID: 1000, GID: 10, AdditionalGids: []uint32{10}}},
		{spec: "4242", want: specs.User{UID: 4242, GID: 0, AdditionalGids: []uint32{0}}},
		{spec: "4242:4343", want: specs.User{UID: 4242, GID: 4343, AdditionalGids: []uint32{4343}}},
		{spec: "nobody", want: specs.User{UID: 65534, GID: 65534, AdditionalGids: []uint32{65534}}},
		{spec: "nobody2", wantErr: "unable to find user nobody2: no matching entries in passwd file"},
		{spec: "web:nogroup2", wantErr: "unable to find group nogroup2: no matching entries in group file"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ResolveUser(root, tc.spec)
			if tc.wantErr != "" {
				if !errdefs.IsInternal(err) || err.Error() != tc.wantErr {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.UID != tc.want.UID || got.GID != tc.want.GID || !slices.Equal(got.AdditionalGids, tc.want.AdditionalGids) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestResolveUserNoFiles(t *testing.T) {
	root := t.TempDir()
	got, err := ResolveUser(root, "")
	if err != nil || got.UID != 0 || got.GID != 0 {
		t.Fatalf("got %+v %v", got, err)
	}
	if got, err = ResolveUser(root, "123:456"); err != nil || got.UID != 123 || got.GID != 456 {
		t.Fatalf("got %+v %v", got, err)
	}
	if _, err := ResolveUser(root, "web"); !errdefs.IsInternal(err) {
		t.Fatalf("named user without passwd: %v", err)
	}
}

func TestGroupAdd(t *testing.T) {
	o := baseOptions()
	o.Rootfs = writeRootfs(t)
	o.HostConfig.GroupAdd = []string{"audio", "5000"}
	s, err := Spec(o)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Process.User.AdditionalGids
	if !slices.Contains(got, 29) || !slices.Contains(got, 5000) || !slices.Contains(got, 10) {
		t.Fatalf("gids %v", got)
	}
	o.HostConfig.GroupAdd = []string{"nosuchgroup"}
	if _, err := Spec(o); !errdefs.IsInternal(err) {
		t.Fatalf("unknown group: %v", err)
	}
}

// An image's /etc/passwd that is a symlink to an absolute path must be
// read inside the rootfs, never from the host.
func TestScopedPath(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"etc", "usr/lib"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"etc/passwd": "/usr/lib/passwd",
		"etc/group":  "../../../../../../etc/group2",
		"etc/loop":   "loop",
		"etc/dir":    "/usr",
	}
	for l, target := range links {
		if err := os.Symlink(target, filepath.Join(root, l)); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]string{
		"/etc/passwd":     "/usr/lib/passwd",
		"/etc/group":      "/etc/group2",
		"/etc/dir/lib/x":  "/usr/lib/x",
		"/../../etc/none": "/etc/none",
	}
	for in, want := range tests {
		got, err := scopedPath(root, in)
		if err != nil || got != filepath.Join(root, want) {
			t.Errorf("scopedPath(%q) = %q, %v; want %q", in, got, err, filepath.Join(root, want))
		}
	}
	if _, err := scopedPath(root, "/etc/loop"); err == nil {
		t.Error("symlink loop not detected")
	}
	if err := os.WriteFile(filepath.Join(root, "usr/lib/passwd"), []byte("app:x:777:777::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if u, err := ResolveUser(root, "app"); err != nil || u.UID != 777 {
		t.Fatalf("user through symlink: %+v %v", u, err)
	}
}
