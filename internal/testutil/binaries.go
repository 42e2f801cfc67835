package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// BinDirEnv names the environment variable that points at prebuilt berthd,
// berth and berth-shim binaries (the Makefile sets it after `make build`).
const BinDirEnv = "BERTH_BIN_DIR"

var binaries struct {
	once  sync.Once
	dir   string
	built bool // dir is ours to remove
	err   error
}

// BinDir returns the directory holding berthd, berth and berth-shim: $BERTH_BIN_DIR
// when set, otherwise a temporary directory where they are built once per
// test process with `go build -o <dir>/ ./cmd/...`.
func BinDir() (string, error) {
	binaries.once.Do(func() {
		if dir := os.Getenv(BinDirEnv); dir != "" {
			abs, err := filepath.Abs(dir)
			if err != nil {
				binaries.err = err
				return
			}
			binaries.dir = abs
			binaries.err = checkBinaries(abs)
			return
		}
		binaries.dir, binaries.err = buildBinaries()
		binaries.built = binaries.err == nil
	})
	return binaries.dir, binaries.err
}

// RemoveBuiltBinaries removes the binaries BinDir built, if it built any.
// Call it from TestMain after m.Run.
func RemoveBuiltBinaries() {
	if binaries.built {
		os.RemoveAll(binaries.dir)
	}
}

func checkBinaries(dir string) error {
	for _, name := range []string{"berthd", "berth", "berth-build", "berth-compose", "berth-shim"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s=%s: %w (run `make build` first)", BinDirEnv, dir, err)
		}
	}
	return nil
}

// buildBinaries builds ./cmd/... of the module the tests run in.
func buildBinaries() (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	dir, err := os.MkdirTemp("", "berth-bin-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // static, as make build
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build ./cmd/... in %s: %w\n%s", root, err, out)
	}
	if err := checkBinaries(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}
