package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBuildxCache(t *testing.T) {
	t.Setenv(BuildxCacheEnv, "")
	if got := BuildxCache(); got != DefaultBuildxCache {
		t.Errorf("BuildxCache() = %q, want %q", got, DefaultBuildxCache)
	}
	t.Setenv(BuildxCacheEnv, "/somewhere/else")
	if got := BuildxCache(); got != "/somewhere/else" {
		t.Errorf("BuildxCache() with %s set = %q", BuildxCacheEnv, got)
	}
}

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

func TestBuildxVersionOK(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "buildx")
	write := func(version string) {
		if err := os.WriteFile(fake, []byte("#!/bin/sh\necho github.com/docker/buildx "+version+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(BuildxVersion)
	if !buildxVersionOK(fake) {
		t.Errorf("a buildx reporting %s is refused", BuildxVersion)
	}
	write("v0.0.0") // unstamped: Compose refuses it
	if buildxVersionOK(fake) {
		t.Errorf("a buildx reporting v0.0.0 is accepted")
	}
	if buildxVersionOK(filepath.Join(dir, "missing")) {
		t.Errorf("a missing buildx is accepted")
	}
}
