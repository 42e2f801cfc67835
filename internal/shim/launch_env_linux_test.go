package shim

import (
	"slices"
	"testing"
)

// TestShimEnv: the shim gets the Go runtime settings in place of any the
// caller had, and keeps the rest of the environment.
func TestShimEnv(t *testing.T) {
	got := shimEnv([]string{"PATH=/bin", "GOGC=off", "GOMAXPROCS=8", "GOMAXPROCSX=1", "HOME=/root"})
	want := []string{"PATH=/bin", "GOMAXPROCSX=1", "HOME=/root", "GOMAXPROCS=1", "GOGC=20"}
	if !slices.Equal(got, want) {
		t.Errorf("shimEnv = %q, want %q", got, want)
	}
}
