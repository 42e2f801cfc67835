package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The shim runs once per container, so what it links is paid per container:
// only the standard library, x/sys, errdefs and its own packages.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	allowed := []string{
		"github.com/berth-project/berth/cmd/berth-shim",
		"github.com/berth-project/berth/internal/shim",
		"github.com/berth-project/berth/internal/runtime",
		"github.com/berth-project/berth/internal/logfile",
		"github.com/berth-project/berth/internal/atomicfile",
		"github.com/containerd/errdefs",
		"golang.org/x/sys/",
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "net/http" {
			t.Errorf("berth-shim links net/http")
		}
		first, _, _ := strings.Cut(pkg, "/")
		if !strings.Contains(first, ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			if pkg == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(pkg, a)) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("berth-shim links %s", pkg)
		}
	}
}
