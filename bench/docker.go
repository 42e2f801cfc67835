//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
)

// benchDocker measures a private dockerd, started by hand with its own roots,
// when dockerd is installed (Debian's docker.io); it returns nil otherwise.
func benchDocker(cfg config) (*engineResult, error) {
	fmt.Fprintln(os.Stderr, "bench: dockerd ...")
	d, err := benchutil.StartDockerd()
	if err != nil || d == nil {
		if d == nil && err == nil {
			fmt.Fprintln(os.Stderr, "bench: dockerd is not installed; skipping the docker comparison")
		}
		return nil, err
	}
	defer d.Close()
	docker, dir := d.CLI, d.Dir

	r := &engineResult{name: "docker", idleNote: "dockerd+containerd"}
	time.Sleep(2 * time.Second)
	for _, pid := range append([]int{d.Pid()}, childPids(d.Pid())...) {
		if v, err := rss(pid); err == nil {
			r.idleRSS += v
		}
	}
	if r.runRm, err = median(cfg.runs, func() error {
		_, err := docker("run", "--rm", "--network", "none", "busybox", "true")
		return err
	}); err != nil {
		return nil, err
	}
	if r.runDRm, err = median(cfg.runs, func() error {
		id, err := docker("run", "-d", "--network", "none", "busybox", "sleep", "300")
		if err != nil {
			return err
		}
		_, err = docker("rm", "-f", id)
		return err
	}); err != nil {
		return nil, err
	}
	var ids []string
	for range 5 {
		id, err := docker("run", "-d", "--network", "none", "busybox", "sleep", "300")
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	time.Sleep(time.Second)
	r.shimRSS = medianInt64(processRSS("containerd-shim", dir))
	if _, err := docker(append([]string{"rm", "-f"}, ids...)...); err != nil {
		return nil, err
	}
	for range cfg.containers {
		if _, err := docker("create", "--network", "none", "busybox", "true"); err != nil {
			return nil, err
		}
	}
	if r.ps, err = median(cfg.runs, func() error {
		_, err := docker("ps", "-a")
		return err
	}); err != nil {
		return nil, err
	}
	return r, nil
}

// processRSS returns the RSS of processes whose executable name starts with
// prefix and whose command line mentions dir.
func processRSS(prefix, dir string) []int64 {
	entries, _ := os.ReadDir("/proc")
	var out []int64
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if !strings.HasPrefix(filepath.Base(exe), prefix) {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if !strings.Contains(string(cmdline), dir) {
			continue
		}
		if v, err := rss(pid); err == nil {
			out = append(out, v)
		}
	}
	return out
}
