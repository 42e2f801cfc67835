// Package benchutil holds what berth's benchmark programs share: running a
// command for its output, loading the test busybox image into an engine,
// and a private Docker daemon to compare against.
package benchutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// Run runs a command and returns its trimmed stdout; the error carries its
// stderr.
func Run(name string, args ...string) (string, error) {
	return run(exec.Command(name, args...))
}

func run(cmd *exec.Cmd) (string, error) {
	name, args := cmd.Path, cmd.Args[1:]
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// ImportBusybox imports the busybox rootfs the tests use as busybox:latest
// through an engine's CLI, staging the tar in dir.
func ImportBusybox(dir string, cli func(args ...string) (string, error)) error {
	busybox, err := testutil.BusyboxBinary()
	if err != nil {
		return err
	}
	tarPath := filepath.Join(dir, "rootfs.tar")
	f, err := os.Create(tarPath)
	if err != nil {
		return err
	}
	if err := testutil.WriteBusyboxRootfs(f, busybox); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = cli("import", tarPath, "busybox:latest")
	return err
}

// Median returns the median of ds (0 for none); ds is sorted in place.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// Setup checks that the benchmark runs as root (it starts engines and
// containers) and points the test helpers at the binaries in bin.
func Setup(bin string) error {
	if os.Geteuid() != 0 {
		return errors.New("run as root (it starts berthd and containers)")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	return os.Setenv(testutil.BinDirEnv, abs)
}

// BusyboxBundle makes an OCI bundle folder in dir holding the busybox
// rootfs the tests use (bundle/rootfs), for timing a runtime alone; the
// caller writes bundle/config.json.
func BusyboxBundle(dir string) (bundle, rootfs string, err error) {
	bundle = filepath.Join(dir, "bundle")
	rootfs = filepath.Join(bundle, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return "", "", err
	}
	busybox, err := testutil.BusyboxBinary()
	if err != nil {
		return "", "", err
	}
	tarPath := filepath.Join(dir, "rootfs.tar")
	f, err := os.Create(tarPath)
	if err != nil {
		return "", "", err
	}
	if err := testutil.WriteBusyboxRootfs(f, busybox); err != nil {
		f.Close()
		return "", "", err
	}
	if err := f.Close(); err != nil {
		return "", "", err
	}
	if _, err := Run("tar", "-C", rootfs, "-xf", tarPath); err != nil {
		return "", "", err
	}
	return bundle, rootfs, nil
}
