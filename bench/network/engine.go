//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// engine is a private daemon with busybox:latest loaded, driven through its
// command-line client.
type engine struct {
	name  string
	note  string
	cli   func(args ...string) (string, error)
	close func()
}

// starter starts an engine; a nil engine and nil error mean "not installed".
type starter func() (*engine, error)

// startBerth starts a private berthd on its own bridge and nftables table.
func startBerth() (*engine, error) {
	d, err := testutil.NewDaemon()
	if err != nil {
		return nil, err
	}
	if err := d.Start(); err != nil {
		d.Close()
		return nil, err
	}
	tarPath, err := d.BusyboxTarPath()
	if err == nil {
		err = d.ImportBusybox(tarPath)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "bench/network: berth ...")
	return &engine{
		name: "berth",
		note: "nftables DNAT",
		cli: func(args ...string) (string, error) {
			return run(filepath.Join(d.BinDir, "berth"), append([]string{"-H", d.Host}, args...)...)
		},
		close: func() {
			if err := d.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "bench/network: tear down berthd: %v\n", err)
			}
		},
	}, nil
}

// startDocker starts a private dockerd with its own roots, socket and
// bridge address; --iptables=false keeps it out of the host's firewall, so
// its published ports go through docker-proxy (which is also what docker
// uses for connections to 127.0.0.1 from the host by default).
func startDocker() (*engine, error) {
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/network: dockerd is not installed; skipping the docker comparison")
		return nil, nil
	}
	cliPath := testutil.DockerCLI
	if _, err := os.Stat(cliPath); err != nil {
		if cliPath, err = exec.LookPath("docker"); err != nil {
			return nil, errors.New("dockerd is installed but no docker CLI")
		}
	}
	fmt.Fprintln(os.Stderr, "bench/network: dockerd ...")
	dir, err := os.MkdirTemp("/tmp", "bdn-")
	if err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "docker.sock")
	_, bridgeErr := os.Stat("/sys/class/net/docker0")
	bridgeExisted := bridgeErr == nil
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(dockerd, "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "x"),
		"-H", "unix://"+sock, "--pidfile", filepath.Join(dir, "docker.pid"), "--bip", "172.31.0.1/16", "--iptables=false")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	docker := func(args ...string) (string, error) {
		return run(cliPath, append([]string{"-H", "unix://" + sock}, args...)...)
	}
	closeFn := func() {
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
		logf.Close()
		_ = testutil.UnmountUnder(dir)
		if !bridgeExisted {
			_ = exec.Command("ip", "link", "delete", "docker0").Run()
		}
		os.RemoveAll(dir)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := docker("version"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			closeFn()
			return nil, errors.New("dockerd did not come up")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := dockerBusybox(dir, docker); err != nil {
		closeFn()
		return nil, err
	}
	return &engine{name: "docker", note: "--iptables=false: docker-proxy", cli: docker, close: closeFn}, nil
}

// dockerBusybox imports the busybox rootfs the tests use as busybox:latest.
func dockerBusybox(dir string, docker func(...string) (string, error)) error {
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
	f.Close()
	_, err = docker("import", tarPath, "busybox:latest")
	return err
}

// measure starts an engine and takes its figures.
func measure(cfg config, imageTar string, start starter) (*result, error) {
	e, err := start()
	if err != nil || e == nil {
		return nil, err
	}
	defer e.close()
	r := &result{name: e.name, note: e.note}
	if _, err := e.cli("import", "--change", `CMD ["/srv"]`, imageTar, "netbench-srv:latest"); err != nil {
		return nil, err
	}
	id, err := e.cli("run", "-d", "--network", "bridge", "-p", "127.0.0.1::8080", "netbench-srv:latest")
	if err != nil {
		return nil, err
	}
	port, err := e.cli("inspect", "-f", `{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}`, id)
	if err != nil {
		return nil, err
	}
	ip, err := e.cli("inspect", "-f", "{{.NetworkSettings.Networks.bridge.IPAddress}}", id)
	if err != nil {
		return nil, err
	}
	published := "http://127.0.0.1:" + port + "/"
	direct := "http://" + ip + ":8080/"
	for _, u := range []string{direct, published} {
		if err := waitHTTP(u, 10*time.Second); err != nil {
			return nil, err
		}
	}
	// warm up, then alternate the two paths twice and keep each one's best
	for _, u := range []string{direct, published} {
		if _, err := throughput(u, cfg.clients, time.Second); err != nil {
			return nil, err
		}
	}
	for range 2 {
		for _, p := range []struct {
			url string
			out *float64
		}{{direct, &r.direct}, {published, &r.published}} {
			v, err := throughput(p.url, cfg.clients, cfg.duration)
			if err != nil {
				return nil, err
			}
			*p.out = max(*p.out, v)
		}
	}
	if _, err := e.cli("rm", "-f", id); err != nil {
		return nil, err
	}

	// run --rm on the bridge against none, interleaved so drift hits both
	var none, bridge []time.Duration
	for i := range cfg.runs + 1 {
		for _, p := range []struct {
			network string
			out     *[]time.Duration
		}{{"none", &none}, {"bridge", &bridge}} {
			t0 := time.Now()
			if _, err := e.cli("run", "--rm", "--network", p.network, "busybox", "true"); err != nil {
				return nil, err
			}
			if i > 0 { // the first round is a warm-up
				*p.out = append(*p.out, time.Since(t0))
			}
		}
	}
	r.runNone, r.runBridge = medianDuration(none), medianDuration(bridge)
	return r, nil
}

// run runs a command and returns its trimmed stdout, or an error with its
// stderr.
func run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// medianDuration returns the median of ds (0 for none).
func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
