package quarantine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMove(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "containers", "abc")
	if err := os.MkdirAll(src, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "config.json"), []byte("{garbled"), 0o600); err != nil {
		t.Fatal(err)
	}
	dest, err := Move(root, src, time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "quarantine", "containers", "abc.20260102T030405.000000006Z"); dest != want {
		t.Errorf("moved to %s, want %s", dest, want)
	}
	if data, err := os.ReadFile(filepath.Join(dest, "config.json")); err != nil || string(data) != "{garbled" {
		t.Errorf("the quarantined file: %q, %v", data, err)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Errorf("the original is still there: %v", err)
	}
	if _, err := Move(root, filepath.Join(root, "..", "x"), time.Now()); err == nil || !strings.Contains(err.Error(), "not inside") {
		t.Errorf("a path outside the root: %v", err)
	}
}
