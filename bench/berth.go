//go:build linux

package main

import (
	"fmt"
	"os"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil"
)

// benchBerth measures a private berthd through the berth CLI.
func benchBerth(cfg config) (*engineResult, error) {
	d, err := testutil.NewDaemon()
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if err := d.Start(); err != nil {
		return nil, err
	}
	tarPath, err := d.BusyboxTarPath()
	if err != nil {
		return nil, err
	}
	if err := d.ImportBusybox(tarPath); err != nil {
		return nil, err
	}
	berth := func(args ...string) (string, error) {
		return benchutil.Run(d.BinDir+"/berth", append([]string{"-H", d.Host}, args...)...)
	}
	r := &engineResult{name: "berth"}
	fmt.Fprintln(os.Stderr, "bench: berth ...")

	time.Sleep(2 * time.Second)
	if r.idleRSS, err = rss(d.Pid()); err != nil {
		return nil, err
	}
	if r.runRm, err = median(cfg.runs, func() error {
		_, err := berth("run", "--rm", "--network", "none", "busybox", "true")
		return err
	}); err != nil {
		return nil, err
	}
	if r.runDRm, err = median(cfg.runs, func() error {
		id, err := berth("run", "-d", "--network", "none", "busybox", "sleep", "300")
		if err != nil {
			return err
		}
		_, err = berth("rm", "-f", id)
		return err
	}); err != nil {
		return nil, err
	}

	// shim memory, over a few running containers
	var shims []int64
	var ids []string
	for range 5 {
		id, err := berth("run", "-d", "--network", "none", "busybox", "sleep", "300")
		if err != nil {
			return nil, err
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
			return nil, err
		}
	}

	for range cfg.containers {
		if _, err := berth("create", "--network", "none", "busybox", "true"); err != nil {
			return nil, err
		}
	}
	if r.ps, err = median(cfg.runs, func() error {
		_, err := berth("ps", "-a")
		return err
	}); err != nil {
		return nil, err
	}
	return r, nil
}
