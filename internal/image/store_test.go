package image

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/containerd/errdefs"
)

func TestImportAndGet(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	changes := []string{`CMD ["sh", "-c", "echo hi"]`, "ENV A=1 B='two words'", "WORKDIR /app", "EXPOSE 80 53/udp",
		"USER nobody", `LABEL org.x="y z"`, "VOLUME /data", "STOPSIGNAL SIGINT", "ENTRYPOINT /bin/init"}
	id, err := s.Import(ctx, bytes.NewReader(tarOf(t, file{name: "etc/"}, file{name: "etc/hello", body: "hi"})), "busybox", changes, "")
	if err != nil {
		t.Fatal(err)
	}
	hexID := id[len("sha256:"):]
	for _, ref := range []string{"busybox", "busybox:latest", "docker.io/library/busybox:latest", "library/busybox", id, hexID, hexID[:1], "sha256:" + hexID[:5]} {
		img, err := s.Get(ctx, ref)
		if err != nil {
			t.Fatalf("Get(%q): %v", ref, err)
		}
		if img.ID != id || !slices.Equal(img.RepoTags, []string{"busybox:latest"}) {
			t.Fatalf("Get(%q) = %s %v", ref, img.ID, img.RepoTags)
		}
	}
	img, _ := s.Get(ctx, "busybox")
	c := img.Config.Config
	if !slices.Equal(c.Cmd, []string{"sh", "-c", "echo hi"}) || !slices.Equal(c.Entrypoint, []string{"/bin/sh", "-c", "/bin/init"}) ||
		!slices.Equal(c.Env, []string{"A=1", "B=two words"}) || c.WorkingDir != "/app" || c.User != "nobody" ||
		c.Labels["org.x"] != "y z" || c.StopSignal != "SIGINT" {
		t.Fatalf("config = %+v", c)
	}
	if _, ok := c.ExposedPorts["53/udp"]; !ok {
		t.Fatalf("ports = %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Fatalf("volumes = %v", c.Volumes)
	}
	if img.Size != 2 || img.ChainID == "" {
		t.Fatalf("size %d chain %q", img.Size, img.ChainID)
	}

	tests := []struct {
		ref   string
		check func(error) bool
		msg   string
	}{
		{"Busybox", errdefs.IsInvalidArgument, "invalid reference format: repository name (library/Busybox) must be lowercase"},
		{"a:b:c", errdefs.IsInvalidArgument, "invalid reference format"},
		{"nosuch", errdefs.IsNotFound, "No such image: nosuch:latest"},
		{"busybox:1", errdefs.IsNotFound, "No such image: busybox:1"},
		{"sha256:" + sha([]byte("x")), errdefs.IsNotFound, "No such image: sha256:" + sha([]byte("x"))},
	}
	for _, tc := range tests {
		_, err := s.Get(ctx, tc.ref)
		if !tc.check(err) || err.Error() != tc.msg {
			t.Errorf("Get(%q) = %v, want %q", tc.ref, err, tc.msg)
		}
	}

	ins, err := s.Inspect(ctx, "busybox")
	if err != nil {
		t.Fatal(err)
	}
	if ins.ID != id || ins.Os != "linux" || ins.RootFS.Type != "layers" || len(ins.RootFS.Layers) != 1 ||
		ins.GraphDriver.Name != "overlay2" || ins.Comment != "Imported from -" || ins.Created == "" || ins.Metadata.LastTagTime.IsZero() {
		t.Fatalf("inspect = %+v", ins)
	}
	hist, err := s.History(ctx, "busybox")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].ID != id || hist[0].Comment != "Imported from -" || hist[0].Size != 2 || !slices.Equal(hist[0].Tags, []string{"busybox:latest"}) {
		t.Fatalf("history = %+v", hist)
	}
}

func TestImportCompressedAndCorrupt(t *testing.T) {
	ctx := context.Background()
	s, root := newStore(t)
	plain := tarOf(t, file{name: "a", body: "aaaa"}, file{name: "b", body: string(bytes.Repeat([]byte("b"), 5000))})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	id, err := s.Import(ctx, bytes.NewReader(gz.Bytes()), "gz:1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := s.Get(ctx, "gz:1")
	if img.ID != id || img.Size != 5004 {
		t.Fatalf("gzip import: %+v", img)
	}
	if _, err := s.Delete(ctx, "gz:1", false, false, nil); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"truncated gzip": gz.Bytes()[:len(gz.Bytes())/2],
		"truncated tar":  plain[:512+100+512+1000],
		"garbage":        bytes.Repeat([]byte("not a tar "), 100),
	} {
		if _, err := s.Import(ctx, bytes.NewReader(data), "bad", nil, ""); err == nil {
			t.Errorf("%s: imported without error", name)
		}
	}
	if list, _ := s.List(ctx, true, nil); len(list) != 0 {
		t.Fatalf("images after corrupt imports: %+v", list)
	}
	snaps, _ := os.ReadDir(filepath.Join(root, "snapshot"))
	blobs, _ := os.ReadDir(filepath.Join(root, "content", "blobs", "sha256"))
	ingest, _ := os.ReadDir(filepath.Join(root, "content", "ingest"))
	if len(snaps) != 1 || len(blobs) != 0 || len(ingest) != 0 {
		t.Fatalf("leftovers: snapshots %v blobs %v ingest %v", snaps, blobs, ingest)
	}
}

func TestChanges(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	bad := []string{"RUN echo", "FROM x", "ENV", "EXPOSE abc", "STOPSIGNAL NOPE", `ENV A="unterminated`, "VOLUME []", "HEALTHCHECK FOO"}
	for _, c := range bad {
		_, err := s.Import(ctx, bytes.NewReader(tarOf(t, file{name: "a"})), "", []string{c}, "")
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("change %q: err = %v, want invalid argument", c, err)
		}
	}
	_, err := s.Import(ctx, bytes.NewReader(tarOf(t, file{name: "a"})), "", []string{"run echo"}, "")
	if err == nil || err.Error() != "run is not a valid change command" {
		t.Errorf("message = %v", err)
	}
	if list, _ := s.List(ctx, true, nil); len(list) != 0 {
		t.Fatalf("images after bad changes: %d", len(list))
	}
}

func TestTagAndRefsPersist(t *testing.T) {
	ctx := context.Background()
	s, root := newStore(t)
	id1 := mustImport(t, s, "busybox", file{name: "a", body: "1"})
	id2 := mustImport(t, s, "", file{name: "a", body: "2"})
	if err := s.Tag(ctx, id1, "localhost:5000/x", "1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, "busybox", "other", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, id2, "busybox", "latest"); err != nil { // moves the tag
		t.Fatal(err)
	}
	for _, tc := range []struct{ source, repo, tag string }{{"nosuch", "x", ""}, {id1, "Bad", ""}, {id1, "x", "bad tag"}, {id1, "sha256", "x"}} {
		if err := s.Tag(ctx, tc.source, tc.repo, tc.tag); err == nil {
			t.Errorf("Tag(%+v) succeeded", tc)
		}
	}
	s2 := openStore(t, root)
	img1, err := s2.Get(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(img1.RepoTags, []string{"other:latest", "localhost:5000/x:1"} /* docker sorts by full name */) {
		t.Fatalf("tags = %v", img1.RepoTags)
	}
	img2, _ := s2.Get(ctx, "busybox")
	if img2.ID != id2 {
		t.Fatalf("busybox = %s, want %s", img2.ID, id2)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	a := mustImport(t, s, "a:1", file{name: "a"})
	b, _ := s.Import(ctx, bytes.NewReader(tarOf(t, file{name: "b"})), "b:1", []string{"LABEL k=v"}, "")
	dangling := mustImport(t, s, "", file{name: "c"})
	ids := func(l []imageSummary) []string {
		var out []string
		for _, x := range l {
			out = append(out, x.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(v ...string) []string { slices.Sort(v); return v }
	tests := []struct {
		filters map[string][]string
		want    []string
	}{
		{nil, sorted(a, b, dangling)},
		{map[string][]string{"dangling": {"true"}}, []string{dangling}},
		{map[string][]string{"dangling": {"false"}}, sorted(a, b)},
		{map[string][]string{"reference": {"a"}}, []string{a}},
		{map[string][]string{"reference": {"*:1"}}, sorted(a, b)},
		{map[string][]string{"label": {"k=v"}}, []string{b}},
		{map[string][]string{"label": {"k=w"}}, nil},
	}
	for _, tc := range tests {
		got, err := s.List(ctx, false, tc.filters)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("List(%v) = %v, want %v", tc.filters, ids(got), tc.want)
		}
	}
	all, _ := s.List(ctx, false, nil)
	for _, x := range all {
		if x.Containers != -1 || x.RepoTags == nil || x.RepoDigests == nil {
			t.Errorf("summary %+v", x)
		}
	}
	if _, err := s.List(ctx, false, map[string][]string{"bogus": {"x"}}); !errdefs.IsInvalidArgument(err) || err.Error() != "invalid filter 'bogus'" {
		t.Errorf("bogus filter: %v", err)
	}
	if _, err := s.List(ctx, false, map[string][]string{"dangling": {"maybe"}}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad dangling: %v", err)
	}
}

func TestBusyboxImage(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	id, err := s.Import(ctx, bytes.NewReader(busyboxRootfs(t)), "busybox:latest", []string{`CMD ["sh"]`}, "")
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Get(ctx, "busybox")
	if err != nil || img.ID != id {
		t.Fatalf("Get(busybox) = %v, %v", img, err)
	}
	m, err := s.PrepareRootfs(ctx, id, "c1")
	if err != nil {
		t.Fatal(err)
	}
	target := rootfs(t, m)
	defer s.RemoveRootfs(ctx, "c1")
	if fi, err := os.Stat(filepath.Join(target, "bin/sh")); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("bin/sh: %v %v", fi, err)
	}
}
