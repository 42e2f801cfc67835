package benchutil

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

// Dockerd is a private Docker daemon (Debian's docker.io) started by hand
// with its own roots, socket and bridge address (172.31.0.1/16, so it never
// meets berth's 172.17) and --iptables=false, so it leaves the host's
// firewall alone; its published ports then go through docker-proxy.
type Dockerd struct {
	Dir  string // everything of this daemon's lives below; removed by Close
	Host string // "unix://" + its socket, for DOCKER_HOST

	cli        string
	sock       string
	cmd        *exec.Cmd
	log        *os.File
	keepBridge bool // docker0 was there before, or is not this daemon's
}

// StartDockerd starts a private dockerd with busybox:latest loaded. It
// returns nil, nil when dockerd is not installed.
func StartDockerd() (*Dockerd, error) { return startDockerd(true) }

// StartDockerdNoBridge is StartDockerd without the default bridge (-b
// none): docker0 stays with whichever other dockerd may own it, and only
// user-defined networks (a compose project's) have one.
func StartDockerdNoBridge() (*Dockerd, error) { return startDockerd(false) }

func startDockerd(defaultBridge bool) (*Dockerd, error) {
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		return nil, nil
	}
	cli := testutil.DockerCLI
	if _, err := os.Stat(cli); err != nil {
		if cli, err = exec.LookPath("docker"); err != nil {
			return nil, errors.New("dockerd is installed but no docker CLI")
		}
	}
	dir, err := os.MkdirTemp("/tmp", "bd-")
	if err != nil {
		return nil, err
	}
	_, bridgeErr := os.Stat("/sys/class/net/docker0")
	d := &Dockerd{Dir: dir, cli: cli, sock: filepath.Join(dir, "docker.sock"), keepBridge: bridgeErr == nil || !defaultBridge}
	d.Host = "unix://" + d.sock
	bridge := []string{"--bip", "172.31.0.1/16"}
	if !defaultBridge {
		bridge = []string{"-b", "none"}
	}
	if d.log, err = os.Create(filepath.Join(dir, "dockerd.log")); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d.cmd = exec.Command(dockerd, "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "x"),
		"-H", d.Host, "--pidfile", filepath.Join(dir, "docker.pid"), "--iptables=false")
	d.cmd.Args = append(d.cmd.Args, bridge...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.log.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	if err := d.ready(); err != nil {
		d.Close()
		return nil, err
	}
	if err := ImportBusybox(dir, d.CLI); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// ready waits for the daemon to answer.
func (d *Dockerd) ready() error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := d.CLI("version"); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd did not come up; see %s", d.log.Name())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// CLI runs the docker CLI against this daemon, with a client configuration
// of its own (DOCKER_CONFIG), so registry logins never touch ~/.docker.
func (d *Dockerd) CLI(args ...string) (string, error) {
	cmd := exec.Command(d.cli, append([]string{"-H", d.Host}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+d.Dir)
	return run(cmd)
}

// Pid is dockerd's process id.
func (d *Dockerd) Pid() int { return d.cmd.Process.Pid }

// Close removes the containers, stops dockerd and removes what it left: its
// mounts, its directory and the docker0 bridge if it made it.
func (d *Dockerd) Close() {
	if ids, err := d.CLI("ps", "-aq"); err == nil && ids != "" {
		_, _ = d.CLI(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	d.log.Close()
	_ = testutil.UnmountUnder(d.Dir)
	if !d.keepBridge {
		_ = exec.Command("ip", "link", "delete", "docker0").Run()
	}
	os.RemoveAll(d.Dir)
}
