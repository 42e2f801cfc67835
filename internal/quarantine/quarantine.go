// Package quarantine sets aside state files berthd cannot read (truncated
// or garbled by a crash, a full disk or a hand edit): they are moved, never
// deleted, so that an operator can look at them or put them back, and the
// rest of the store is served.
package quarantine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Dir is the folder under a store's root that holds what was set aside.
const Dir = "quarantine"

// Move moves path (a file or folder inside root) to
// <root>/quarantine/<path relative to root>.<UTC time>, and returns where.
func Move(root, path string, now time.Time) (string, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("quarantine %s: not inside %s", path, root)
	}
	dest := filepath.Join(root, Dir, rel) + "." + now.UTC().Format("20060102T150405.000000000Z")
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return "", fmt.Errorf("quarantine %s: %w", path, err)
	}
	if err := os.Rename(path, dest); err != nil {
		return "", fmt.Errorf("quarantine %s: %w", path, err)
	}
	return dest, nil
}
