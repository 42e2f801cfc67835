package image

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
)

const cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestDeleteRules(t *testing.T) {
	ctx := context.Background()
	notUsed := func(string) (string, bool, bool) { return "", false, false }
	stopped := func(string) (string, bool, bool) { return cid, false, true }
	running := func(string) (string, bool, bool) { return cid, true, true }
	tests := []struct {
		name    string
		tags    []string // tags of the image (the first is used at import)
		ref     string   // "ID" means the full id, "SHORT" a 12-char prefix
		force   bool
		usedBy  UsedBy
		wantErr string // exact message of a 409
		untag   []string
		deleted bool
	}{
		{name: "by name, last tag", tags: []string{"a:1"}, ref: "a:1", usedBy: notUsed, untag: []string{"a:1"}, deleted: true},
		{name: "by name, other tag left", tags: []string{"a:1", "b:2"}, ref: "a:1", usedBy: notUsed, untag: []string{"a:1"}},
		{name: "by short name", tags: []string{"busybox:latest"}, ref: "busybox", usedBy: notUsed, untag: []string{"busybox:latest"}, deleted: true},
		{name: "by id, one tag", tags: []string{"a:1"}, ref: "ID", usedBy: notUsed, untag: []string{"a:1"}, deleted: true},
		{name: "by id, dangling", ref: "SHORT", usedBy: notUsed, deleted: true},
		{name: "by id, two repos", tags: []string{"a:1", "b:1"}, ref: "SHORT", usedBy: notUsed,
			wantErr: "conflict: unable to delete SHORT (must be forced) - image is referenced in multiple repositories"},
		{name: "by id, two repos, force", tags: []string{"a:1", "b:1"}, ref: "SHORT", force: true, usedBy: notUsed, untag: []string{"a:1", "b:1"}, deleted: true},
		{name: "by name, stopped container", tags: []string{"a:1"}, ref: "a:1", usedBy: stopped,
			wantErr: `conflict: unable to remove repository reference "a:1" (must force) - container 0123456789ab is using its referenced image SHORT`},
		{name: "by name, stopped container, other tag", tags: []string{"a:1", "a:2"}, ref: "a:1", usedBy: stopped, untag: []string{"a:1"}},
		{name: "by name, stopped container, force", tags: []string{"a:1"}, ref: "a:1", force: true, usedBy: stopped, untag: []string{"a:1"}, deleted: true},
		{name: "by id, stopped container", tags: []string{"a:1"}, ref: "SHORT", usedBy: stopped,
			wantErr: "conflict: unable to delete SHORT (must be forced) - image is being used by stopped container 0123456789ab"},
		{name: "by id, running container, force", tags: []string{"a:1"}, ref: "ID", force: true, usedBy: running,
			wantErr: "conflict: unable to delete SHORT (cannot be forced) - image is being used by running container 0123456789ab"},
		{name: "by name, running container, force", tags: []string{"a:1"}, ref: "a:1", force: true, usedBy: running, untag: []string{"a:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, root := newStore(t)
			first := ""
			if len(tc.tags) > 0 {
				first = tc.tags[0]
			}
			id := mustImport(t, s, first, file{name: "f", body: "data"})
			for _, tag := range tc.tags[min(1, len(tc.tags)):] {
				if err := s.Tag(ctx, id, tag, ""); err != nil {
					t.Fatal(err)
				}
			}
			short := id[7:19]
			ref := map[string]string{"ID": id, "SHORT": short}[tc.ref]
			if ref == "" {
				ref = tc.ref
			}
			got, err := s.Delete(ctx, ref, tc.force, false, tc.usedBy)
			if tc.wantErr != "" {
				want := strings.ReplaceAll(tc.wantErr, "SHORT", short)
				if !errdefs.IsConflict(err) || err.Error() != want {
					t.Fatalf("err = %v, want 409 %q", err, want)
				}
				if _, err := s.Get(ctx, id); err != nil {
					t.Fatalf("image gone after refused delete: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want []image.DeleteResponse
			for _, u := range tc.untag {
				want = append(want, image.DeleteResponse{Untagged: u})
			}
			if tc.deleted {
				want = append(want, image.DeleteResponse{Deleted: id})
			}
			if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
				t.Fatalf("records = %+v, want prefix %+v", got, want)
			}
			_, err = s.Get(ctx, id)
			if tc.deleted != errdefs.IsNotFound(err) {
				t.Fatalf("deleted = %v but Get = %v", tc.deleted, err)
			}
			if tc.deleted {
				// The layer went too: one "Deleted" for it, and nothing left on disk.
				if len(got) != len(want)+1 {
					t.Fatalf("records = %+v, want the layer deleted too", got)
				}
				snaps, _ := os.ReadDir(filepath.Join(root, "snapshot"))
				blobs, _ := os.ReadDir(filepath.Join(root, "content", "blobs", "sha256"))
				if len(snaps) != 1 || len(blobs) != 0 {
					t.Fatalf("leftovers: %v %v", snaps, blobs)
				}
			}
		})
	}
}

func TestDeleteKeepsSharedLayersAndContainerLayers(t *testing.T) {
	ctx := context.Background()
	s, root := newStore(t)
	id := mustImport(t, s, "a:1", file{name: "f", body: "same"})
	if err := s.Tag(ctx, "a:1", "b", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PrepareRootfs(ctx, id, "c1"); err != nil {
		t.Fatal(err)
	}
	// Forced delete by id while a stopped container uses it: the image goes,
	// its layer stays for the container until the container's layer is removed.
	got, err := s.Delete(ctx, id, true, false, func(string) (string, bool, bool) { return cid, false, true })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Deleted != id {
		t.Fatalf("records = %+v", got)
	}
	if n := len(names(t, filepath.Join(root, "snapshot"))); n != 2 {
		t.Fatalf("layer removed while a container uses it (%d entries)", n)
	}
	if _, err := s.PrepareRootfs(ctx, id, "c2"); !errdefs.IsNotFound(err) {
		t.Fatalf("prepare on deleted image: %v", err)
	}
	if err := s.RemoveRootfs(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if n := len(names(t, filepath.Join(root, "snapshot"))); n != 1 {
		t.Fatalf("layer not collected after the container went (%d entries)", n)
	}
}

func TestReopenAfterCrash(t *testing.T) {
	ctx := context.Background()
	s, root := newStore(t)
	id := mustImport(t, s, "a:1", file{name: "f", body: "x"})
	// Leftovers of interrupted work everywhere.
	for _, p := range []string{"snapshot/.tmp-123/diff", "content/ingest", "image/tmp/load-1"} {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "content/ingest/blob-1"), []byte("partial"), 0o600)
	os.WriteFile(filepath.Join(root, "image/images/.x.json.tmp-1"), []byte("{"), 0o600)
	os.WriteFile(filepath.Join(root, "content/blobs/sha256", sha([]byte("orphan"))), []byte("orphan"), 0o600)
	// An image record whose config blob never made it is dropped.
	os.WriteFile(filepath.Join(root, "image/images", sha([]byte("lost"))+".json"), []byte(`{"id":"sha256:`+sha([]byte("lost"))+`","layers":[]}`), 0o600)
	s2 := openStore(t, root)
	if img, err := s2.Get(ctx, "a:1"); err != nil || img.ID != id {
		t.Fatalf("Get after reopen: %v %v", img, err)
	}
	if list, _ := s2.List(ctx, true, nil); len(list) != 1 {
		t.Fatalf("images: %+v", list)
	}
	for _, p := range []string{"snapshot/.tmp-123", "content/ingest/blob-1", "image/tmp", "image/images/.x.json.tmp-1", "content/blobs/sha256/" + sha([]byte("orphan"))} {
		if _, err := os.Stat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("%s survived reopen", p)
		}
	}
}
