package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestComposeExecsComposeProgram: berth compose hands every argument to
// berth-compose untouched, -H as BERTH_HOST and --config as DOCKER_CONFIG,
// and exits with its code.
func TestComposeExecsComposeProgram(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$BERTH_HOST\" \"$DOCKER_CONFIG\" \"$@\" > " + log + "\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, ComposeProgram), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("BERTH_HOST", "")
	t.Setenv("DOCKER_CONFIG", "/inherited")
	var out, errb bytes.Buffer
	args := []string{"-H", "unix:///x.sock", "--config", "/cfg", "compose", "-f", "a.yml", "up", "-d", "--help"}
	if code := Execute(t.Context(), args, nil, &out, &errb); code != 3 {
		t.Errorf("exit %d (stderr %q), want berth-compose's 3", code, errb.String())
	}
	dt, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if want := "unix:///x.sock\n/cfg\n-f\na.yml\nup\n-d\n--help\n"; string(dt) != want {
		t.Errorf("berth-compose got %q, want %q", dt, want)
	}
}
