//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// benchDocker measures a private dockerd, started by hand with its own roots,
// when dockerd is installed (Debian's docker.io); it returns nil otherwise.
func benchDocker(cfg config) (*engineResult, error) {
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: dockerd is not installed; skipping the docker comparison")
		return nil, nil
	}
	cli := testutil.DockerCLI
	if _, err := os.Stat(cli); err != nil {
		if cli, err = exec.LookPath("docker"); err != nil {
			return nil, errors.New("dockerd is installed but no docker CLI")
		}
	}
	fmt.Fprintln(os.Stderr, "bench: dockerd ...")
	dir, err := os.MkdirTemp("/tmp", "bd-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "docker.sock")
	_, bridgeErr := os.Stat("/sys/class/net/docker0")
	bridgeExisted := bridgeErr == nil

	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(dockerd, "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "x"),
		"-H", "unix://"+sock, "--pidfile", filepath.Join(dir, "docker.pid"), "--bip", "172.31.0.1/16", "--iptables=false")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	docker := func(args ...string) (string, error) {
		return run(cli, append([]string{"-H", "unix://" + sock}, args...)...)
	}
	defer func() {
		if ids, err := docker("ps", "-aq"); err == nil && ids != "" {
			_, _ = docker(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = testutil.UnmountUnder(dir)
		if !bridgeExisted {
			_ = exec.Command("ip", "link", "delete", "docker0").Run()
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := docker("version"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("dockerd did not come up; see %s", logf.Name())
		}
		time.Sleep(200 * time.Millisecond)
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
	if _, err := docker("import", tarPath, "busybox:latest"); err != nil {
		return nil, err
	}

	r := &engineResult{name: "docker", idleNote: "dockerd+containerd"}
	time.Sleep(2 * time.Second)
	for _, pid := range append([]int{cmd.Process.Pid}, childPids(cmd.Process.Pid)...) {
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
