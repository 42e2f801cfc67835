package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildCommandsExecBuildProgram: berth's build, image build (and, with
// the builder group, builder build) hand their raw arguments and the
// global --host/--config to berth-build, and keep its exit code.
func TestBuildCommandsExecBuildProgram(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "args")
	// a stand-in berth-build that records how it was called
	script := "#!/bin/sh\nprintf '%s\\n' \"$BERTH_HOST\" \"$@\" > " + log + "\nexit 7\n"
	if err := os.WriteFile(filepath.Join(dir, BuildProgram), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-H", "unix:///x.sock", "build", "-t", "a", "--no-cache", "."}, "unix:///x.sock\nbuild\n-t\na\n--no-cache\n.\n"},
		{[]string{"--config", "/cfg", "image", "build", "--help"}, "unix:///inherited.sock\n--config\n/cfg\nimage\nbuild\n--help\n"},
	} {
		t.Setenv("BERTH_HOST", "unix:///inherited.sock")
		var out, errb bytes.Buffer
		code := Execute(t.Context(), tc.args, nil, &out, &errb)
		if code != 7 {
			t.Errorf("%v: exit %d (stderr %q), want berth-build's 7", tc.args, code, errb.String())
		}
		dt, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		if string(dt) != tc.want {
			t.Errorf("%v: berth-build got %q, want %q", tc.args, dt, tc.want)
		}
	}
}

// TestBuildCommandListed: berth --help lists build without linking it.
func TestBuildCommandListed(t *testing.T) {
	var out bytes.Buffer
	if code := Execute(t.Context(), []string{"--help"}, nil, &out, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "Build an image from a Dockerfile") {
		t.Errorf("help lacks build:\n%s", out.String())
	}
}
