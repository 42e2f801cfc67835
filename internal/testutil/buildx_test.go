package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestInstallBuildxPlugin(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "buildx")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	for range 2 { // idempotent
		if err := InstallBuildxPlugin(config, bin); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(config, "cli-plugins", "docker-buildx")
	if target, err := os.Readlink(link); err != nil || target != bin {
		t.Errorf("%s -> %q (%v), want %s", link, target, err, bin)
	}
	other := filepath.Join(dir, "buildx2")
	if err := InstallBuildxPlugin(config, other); err != nil {
		t.Fatal(err)
	}
	if target, _ := os.Readlink(link); target != other {
		t.Errorf("reinstalling points the plugin at %q, want %s", target, other)
	}
}
