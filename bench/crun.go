//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/testutil"
)

// benchCrun times `crun run` alone on berth's spec, as benchRunc does
// runc, when crun is installed (nil otherwise): the runtime berthd picks
// by default where it exists. It runs crun through internal/runtime, so on
// a hybrid cgroup host it sees the cgroups berth gives it (the v2 mount
// hidden), and the spec is the one berthd writes for crun.
func benchCrun(cfg config) (*engineResult, error) {
	path, err := exec.LookPath("crun")
	if err != nil {
		return nil, nil
	}
	rt := &runtime.Runtime{Path: path}
	v, err := rt.Version(context.Background())
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "bench: crun alone ...")
	dir, err := os.MkdirTemp("", "berth-bench-crun-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bundle := filepath.Join(dir, "bundle")
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return nil, err
	}
	busybox, err := testutil.BusyboxBinary()
	if err != nil {
		return nil, err
	}
	tarPath := filepath.Join(dir, "rootfs.tar")
	f, err := os.Create(tarPath)
	if err != nil {
		return nil, err
	}
	if err := testutil.WriteBusyboxRootfs(f, busybox); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	if _, err := benchutil.Run("tar", "-C", rootfs, "-xf", tarPath); err != nil {
		return nil, err
	}
	host := oci.DetectHost()
	host.OCIVersion = v.Spec
	host.NoUnlimitedPids = runtime.WritesNegativePids(v) && !host.CgroupV2
	spec, err := oci.Spec(oci.Options{
		ID: "bench", Rootfs: rootfs, Args: []string{"true"}, Cwd: "/", Hostname: "bench",
		HostConfig:  &container.HostConfig{},
		CgroupsPath: fmt.Sprintf("/berth-bench-crun-%d", os.Getpid()),
		Host:        &host,
	})
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), out, 0o644); err != nil {
		return nil, err
	}
	rt.Root = filepath.Join(dir, "state")
	n := 0
	r := &engineResult{name: "crun alone"}
	r.runRm, err = median(cfg.runs, func() error {
		n++
		return rt.Run(context.Background(), fmt.Sprintf("bench-%d-%d", os.Getpid(), n), bundle)
	})
	return r, err
}
