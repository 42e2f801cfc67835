package runtime

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

// TestBrokenRuntime: a runtime that cannot be run or that hangs is named in
// the error, which comes back in bounded time.
func TestBrokenRuntime(t *testing.T) {
	dir := t.TempDir()
	notProgram := filepath.Join(dir, "garbage")
	hang := filepath.Join(dir, "hang")
	if err := os.WriteFile(notProgram, []byte("garbage"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "missing"), "OCI runtime " + filepath.Join(dir, "missing") + " cannot be run: fork/exec"},
		{"not a program", notProgram, "OCI runtime " + notProgram + " cannot be run: fork/exec " + notProgram + ": exec format error"},
		{"hangs", hang, "OCI runtime " + hang + " did not finish in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			r := Runtime{Path: tc.path, Root: dir}
			for op, f := range map[string]func() error{
				"create": func() error { return r.Create(ctx, "c1", dir, CreateOpts{}) },
				"kill":   func() error { return r.Kill(ctx, "c1", 9, false) },
			} {
				err := f()
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %v, want it to contain %q", op, err, tc.want)
				}
				if tc.name != "hangs" && !errdefs.IsUnknown(err) {
					t.Errorf("%s: %v is not errdefs.ErrUnknown (a 500, as dockerd's)", op, err)
				}
			}
		})
	}
}
