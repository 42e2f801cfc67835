package testutil

import (
	"os"
	"testing"
)

// RequiresRoot skips t unless the test runs as root: berthd mounts overlay
// filesystems and starts containers, which needs root on the real kernel.
func RequiresRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: this test needs root (it starts berthd and real containers); run it as root, e.g. sudo make test")
	}
}
