package content

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
)

func TestCommitVerifies(t *testing.T) {
	ctx := context.Background()
	data := []byte("hello blob")
	good := digest.FromBytes(data)
	tests := []struct {
		name     string
		size     int64
		expected digest.Digest
		wantErr  bool
	}{
		{"exact", int64(len(data)), good, false},
		{"unchecked", -1, "", false},
		{"wrong size", int64(len(data)) + 1, good, true},
		{"wrong digest", int64(len(data)), digest.FromString("other"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			s, err := New(root)
			if err != nil {
				t.Fatal(err)
			}
			w, err := s.Writer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			got, err := w.Commit(ctx, tc.size, tc.expected)
			if tc.wantErr {
				if !errdefs.IsFailedPrecondition(err) {
					t.Fatalf("err = %v, want failed precondition", err)
				}
				if s.Exists(ctx, good) {
					t.Fatal("unverified blob became visible")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if got != good {
					t.Fatalf("digest = %s, want %s", got, good)
				}
				b, err := s.ReadBlob(ctx, good)
				if err != nil || string(b) != string(data) {
					t.Fatalf("ReadBlob = %q, %v", b, err)
				}
			}
			left, _ := os.ReadDir(filepath.Join(root, "ingest"))
			if len(left) != 0 {
				t.Fatalf("ingest not cleaned: %v", left)
			}
		})
	}
}

func TestStoreOps(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	// A crash leaves partial data in ingest; reopening removes it.
	if err := os.WriteFile(filepath.Join(root, "ingest", "partial"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err = New(root); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(filepath.Join(root, "ingest")); len(left) != 0 {
		t.Fatalf("ingest not cleaned: %v", left)
	}
	d, err := s.WriteBlob(ctx, []byte("abc"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteBlob(ctx, []byte("abc"), d); err != nil {
		t.Fatalf("rewrite existing: %v", err)
	}
	if _, err := s.WriteBlob(ctx, []byte("abd"), d); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("mismatch err = %v", err)
	}
	if n, err := s.Info(ctx, d); err != nil || n != 3 {
		t.Fatalf("Info = %d, %v", n, err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0] != d {
		t.Fatalf("List = %v, %v", list, err)
	}
	if err := s.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, d); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Info(ctx, d); !errdefs.IsNotFound(err) {
		t.Fatalf("Info after delete = %v", err)
	}
	if _, err := s.Open(ctx, "bogus"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("Open(bogus) = %v", err)
	}
}
