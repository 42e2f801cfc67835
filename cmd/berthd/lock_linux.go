package main

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/berth-project/berth/internal/atomicfile"
)

// lockDataRoot takes an exclusive lock on the data root, so a second berthd
// on the same root refuses to start instead of corrupting it.
func lockDataRoot(root string) (func(), error) {
	return lockFile(filepath.Join(root, "berthd.lock"), "data root "+root)
}

// writePidfile records berthd's pid.
func writePidfile(path string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}
