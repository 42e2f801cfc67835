package runtime

import (
	"context"
	"os"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
)

// Against the real runc: a container that does not exist. (Create, start,
// kill and delete of real containers are exercised by the shim's tests.)
func TestRuncMissingContainer(t *testing.T) {
	path := ""
	for _, p := range []string{"/usr/sbin/runc", "/usr/bin/runc"} {
		if _, err := os.Stat(p); err == nil {
			path = p
		}
	}
	if path == "" || os.Geteuid() != 0 {
		t.Skip("needs root and runc")
	}
	r := &Runtime{Path: path, Root: t.TempDir()}
	ctx := context.Background()
	if _, err := r.State(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("state: %v", err)
	}
	if err := r.Kill(ctx, "nope", syscall.SIGKILL, false); !errdefs.IsNotFound(err) {
		t.Errorf("kill: %v", err)
	}
	if err := r.Delete(ctx, "nope", false); err != nil {
		t.Errorf("delete: %v", err)
	}
	if err := r.Start(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("start: %v", err)
	}
}
