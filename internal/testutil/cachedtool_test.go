package testutil

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fakeTool is a cachedTool whose build writes a shell script printing
// "fake <version>" (or printed, when set), counting its builds.
func fakeTool(t *testing.T, printed string) (*cachedTool, *int) {
	t.Helper()
	builds := 0
	tool := &cachedTool{
		name:         "fake",
		version:      "v1.2.3",
		cacheEnv:     "BERTH_FAKE_TOOL_CACHE",
		defaultCache: "/nonexistent/fake-cache",
		versionOut:   "fake v1.2.3",
		build: func(_, _, tmp string) (string, error) {
			builds++
			bin := filepath.Join(tmp, "fake")
			if printed == "" {
				return bin, errors.New("no go here")
			}
			return bin, os.WriteFile(bin, []byte("#!/bin/sh\necho "+printed+"\n"), 0o755)
		},
	}
	return tool, &builds
}

func TestCachedToolCache(t *testing.T) {
	tool, _ := fakeTool(t, "")
	t.Setenv(tool.cacheEnv, "")
	if got := tool.cache(); got != tool.defaultCache {
		t.Errorf("cache() = %q, want %q", got, tool.defaultCache)
	}
	t.Setenv(tool.cacheEnv, "/somewhere/else")
	if got := tool.cache(); got != "/somewhere/else" {
		t.Errorf("cache() with %s set = %q", tool.cacheEnv, got)
	}
}

func TestCachedToolEnsure(t *testing.T) {
	dir := t.TempDir()
	tool, builds := fakeTool(t, "fake v1.2.3")
	bin, err := tool.ensure(dir)
	if err != nil {
		t.Fatal(err)
	}
	if bin != filepath.Join(dir, "fake") || *builds != 1 {
		t.Fatalf("ensure = %q after %d builds, want %s after 1", bin, *builds, filepath.Join(dir, "fake"))
	}
	if _, err := tool.ensure(dir); err != nil || *builds != 1 {
		t.Errorf("a second ensure built again (%d builds, %v)", *builds, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".build-*")); len(left) != 0 {
		t.Errorf("build folders left behind: %v", left)
	}

	// A binary of another version (or a hand build of the right one) in
	// the folder: replaced, or kept.
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho fake v1.0.0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := tool.ensure(dir); err != nil || *builds != 2 {
		t.Errorf("another version was not rebuilt (%d builds, %v)", *builds, err)
	}
	if !tool.versionOK(bin) {
		t.Errorf("the rebuilt binary is not the right version")
	}
}

func TestCachedToolEnsureFails(t *testing.T) {
	for _, printed := range []string{"", "fake v0.0.0"} { // build fails; unstamped build
		tool, _ := fakeTool(t, printed)
		dir := t.TempDir()
		if _, err := tool.ensure(dir); err == nil {
			t.Errorf("build printing %q: ensure succeeded", printed)
		}
		if _, err := os.Stat(filepath.Join(dir, "fake")); err == nil {
			t.Errorf("build printing %q: a binary was left in the cache", printed)
		}
	}
}

// TestToolVersionOK: each tool is accepted only stamped with its release.
func TestToolVersionOK(t *testing.T) {
	for _, tc := range []struct {
		tool    *cachedTool
		printed string
		want    bool
	}{
		{buildx, "github.com/docker/buildx " + BuildxVersion + " abc", true},
		{buildx, "github.com/docker/buildx v0.0.0", false}, // unstamped: Compose refuses it
		{composeV5, "Docker Compose version " + ComposeV5Version, true},
		{composeV5, "Docker Compose version dev", false}, // unstamped
		{composeV5, "Docker Compose version v5.7.0", false},
	} {
		fake := filepath.Join(t.TempDir(), tc.tool.name)
		if err := os.WriteFile(fake, []byte("#!/bin/sh\necho '"+tc.printed+"'\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if got := tc.tool.versionOK(fake); got != tc.want {
			t.Errorf("a %s printing %q: versionOK = %v, want %v", tc.tool.name, tc.printed, got, tc.want)
		}
	}
	if composeV5.versionOK(filepath.Join(t.TempDir(), "missing")) {
		t.Errorf("a missing binary is accepted")
	}
}

func TestDownloadedDir(t *testing.T) {
	ok := `{"Path": "github.com/docker/compose/v5", "Version": "v5.6.0", "Dir": "/root/go/pkg/mod/github.com/docker/compose/v5@v5.6.0", "Sum": "h1:x"}`
	if dir, err := downloadedDir([]byte(ok)); err != nil || dir != "/root/go/pkg/mod/github.com/docker/compose/v5@v5.6.0" {
		t.Errorf("downloadedDir = %q, %v", dir, err)
	}
	for _, bad := range []string{
		`{"Path": "github.com/docker/compose/v5", "Version": "v5.6.0", "Error": "unknown revision v5.6.0"}`,
		`{"Path": "github.com/docker/compose/v5", "Version": "v5.6.0"}`,
		`go: not json`,
	} {
		if dir, err := downloadedDir([]byte(bad)); err == nil {
			t.Errorf("downloadedDir(%s) = %q, want an error", bad, dir)
		}
	}
}
