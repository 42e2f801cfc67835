//go:build linux

package main

import (
	"fmt"
	"os"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil"
)

// benchBerth measures a private berthd through the berth CLI. With runc
// (runc run alone, see runcAlone), each berth run --rm is paired with one
// runc run, taken in turn, and the returned runc result holds its median.
func benchBerth(cfg config, runc func() error) (*engineResult, *engineResult, error) {
	d, err := testutil.NewDaemon()
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	if err := d.Start(); err != nil {
		return nil, nil, err
	}
	tarPath, err := d.BusyboxTarPath()
	if err != nil {
		return nil, nil, err
	}
	if err := d.ImportBusybox(tarPath); err != nil {
		return nil, nil, err
	}
	berth := func(args ...string) (string, error) {
		return benchutil.Run(d.BinDir+"/berth", append([]string{"-H", d.Host}, args...)...)
	}
	r := &engineResult{name: "berth"}
	fmt.Fprintln(os.Stderr, "bench: berth ...")

	time.Sleep(2 * time.Second)
	if r.idleRSS, err = rss(d.Pid()); err != nil {
		return nil, nil, err
	}
	runRm := func() error {
		_, err := berth("run", "--rm", "--network", "none", "busybox", "true")
		return err
	}
	var rr *engineResult
	if runc == nil {
		if r.runRm, err = median(cfg.runs, runRm); err != nil {
			return nil, nil, err
		}
	} else {
		rr = &engineResult{name: "runc alone"}
		if r.runRm, rr.runRm, r.runRmRatio, err = paired(cfg.runs, runRm, runc); err != nil {
			return nil, nil, err
		}
	}
	if r.runDRm, err = median(cfg.runs, func() error {
		id, err := berth("run", "-d", "--network", "none", "busybox", "sleep", "300")
		if err != nil {
			return err
		}
		_, err = berth("rm", "-f", id)
		return err
	}); err != nil {
		return nil, nil, err
	}

	// shim memory, over a few running containers
	var shims []int64
	var ids []string
	for range 5 {
		id, err := berth("run", "-d", "--network", "none", "busybox", "sleep", "300")
		if err != nil {
			return nil, nil, err
		}
		ids = append(ids, id)
	}
	time.Sleep(time.Second)
	for _, pid := range testutil.ShimPids(d.ExecRoot) {
		if v, err := rss(pid); err == nil {
			shims = append(shims, v)
		}
	}
	r.shimRSS = medianInt64(shims)
	for _, id := range ids {
		if _, err := berth("rm", "-f", id); err != nil {
			return nil, nil, err
		}
	}

	for range cfg.containers {
		if _, err := berth("create", "--network", "none", "busybox", "true"); err != nil {
			return nil, nil, err
		}
	}
	if r.ps, err = median(cfg.runs, func() error {
		_, err := berth("ps", "-a")
		return err
	}); err != nil {
		return nil, nil, err
	}
	return r, rr, nil
}
