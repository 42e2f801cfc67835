// Package benchutil holds what berth's benchmark programs share: running a
// command for its output, loading the test busybox image into an engine,
// and a private Docker daemon to compare against.
package benchutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

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

// StartBerthd starts a private berthd (its own roots, bridge and nftables
// table) with busybox:latest loaded, and returns it with a function running
// the berth CLI against it.
func StartBerthd() (*testutil.Daemon, func(args ...string) (string, error), error) {
	d, err := testutil.NewDaemon()
	if err != nil {
		return nil, nil, err
	}
	if err := d.Start(); err != nil {
		d.Close()
		return nil, nil, err
	}
	tarPath, err := d.BusyboxTarPath()
	if err == nil {
		err = d.ImportBusybox(tarPath)
	}
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	cli := func(args ...string) (string, error) {
		return Run(filepath.Join(d.BinDir, "berth"), append([]string{"-H", d.Host}, args...)...)
	}
	return d, cli, nil
}
