//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/oci"
)

// runcAlone prepares a bundle with the same busybox rootfs and berth's spec
// and returns a function that runs it once with `runc run` alone, so that
// berth's own overhead shows; cleanup removes the bundle.
func runcAlone() (runOnce func() error, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "berth-bench-runc-")
	if err != nil {
		return nil, nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	runOnce, err = prepareRunc(dir)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return runOnce, cleanup, nil
}

func prepareRunc(dir string) (func() error, error) {
	bundle, rootfs, err := benchutil.BusyboxBundle(dir)
	if err != nil {
		return nil, err
	}
	if err := writeSpec(filepath.Join(bundle, "config.json"), rootfs); err != nil {
		return nil, err
	}
	state := filepath.Join(dir, "state")
	n := 0
	return func() error {
		n++
		cmd := exec.Command("runc", "--root", state, "run", "--bundle", bundle, fmt.Sprintf("bench-%d-%d", os.Getpid(), n))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("runc run: %v: %s", err, out)
		}
		return nil
	}, nil
}

// writeSpec writes the spec berth gives a container (Docker's defaults:
// capabilities, seccomp, masked paths, a cgroup), running `true` without a
// terminal and without a network namespace of berth's making, so runc does
// the same work as for `berth run --network none`.
func writeSpec(path, rootfs string) error {
	spec, err := oci.Spec(oci.Options{
		ID:          "bench",
		Rootfs:      rootfs,
		Args:        []string{"true"},
		Cwd:         "/",
		Hostname:    "bench",
		HostConfig:  &container.HostConfig{},
		CgroupsPath: fmt.Sprintf("/berth-bench-%d", os.Getpid()),
	})
	if err != nil {
		return err
	}
	out, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
