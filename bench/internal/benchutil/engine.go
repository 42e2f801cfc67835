package benchutil

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-project/berth/internal/testutil"
	"github.com/moby/moby/client"
)

// Engine is a private daemon with busybox:latest loaded, driven through its
// command-line client.
type Engine struct {
	Name  string
	Note  string
	Host  string // the daemon's address, for -H or DOCKER_HOST
	CLI   func(args ...string) (string, error)
	Close func()
	// Berthd is the private berthd behind a berth engine (nil for docker).
	Berthd *testutil.Daemon
}

// StartBerth starts a private berthd on its own bridge and nftables table;
// tag prefixes the progress lines.
func StartBerth(tag string) (*Engine, error) {
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
	fmt.Fprintf(os.Stderr, "%s: berth ...\n", tag)
	bin := filepath.Join(d.BinDir, "berth")
	args := []string{"-H", d.Host}
	return &Engine{
		Name:   "berth",
		Host:   d.Host,
		Berthd: d,
		CLI: func(a ...string) (string, error) {
			return Run(bin, append(append([]string(nil), args...), a...)...)
		},
		Close: func() {
			if err := d.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "%s: tear down berthd: %v\n", tag, err)
			}
		},
	}, nil
}

// StartDocker starts a private dockerd (see Dockerd); nil, nil when it is
// not installed.
func StartDocker(tag string) (*Engine, error) { return startDocker(tag, StartDockerd) }

// StartDockerNoBridge is StartDocker without the default bridge (see
// StartDockerdNoBridge), for measures whose containers run with
// --network none.
func StartDockerNoBridge(tag string) (*Engine, error) { return startDocker(tag, StartDockerdNoBridge) }

func startDocker(tag string, start func() (*Dockerd, error)) (*Engine, error) {
	fmt.Fprintf(os.Stderr, "%s: dockerd ...\n", tag)
	d, err := start()
	if err != nil || d == nil {
		if d == nil && err == nil {
			fmt.Fprintf(os.Stderr, "%s: dockerd is not installed; skipping the docker comparison\n", tag)
		}
		return nil, err
	}
	return &Engine{
		Name:  "docker",
		Host:  d.Host,
		CLI:   d.CLI,
		Close: d.Close,
	}, nil
}

// TimePs times one `ps -a` through e's CLI, then one container list
// through the API alone with c.
func TimePs(ctx context.Context, e *Engine, c *client.Client) (cli, api time.Duration, err error) {
	t0 := time.Now()
	if _, err := e.CLI("ps", "-a"); err != nil {
		return 0, 0, err
	}
	t1 := time.Now()
	if _, err := c.ContainerList(ctx, client.ContainerListOptions{All: true}); err != nil {
		return 0, 0, err
	}
	return t1.Sub(t0), time.Since(t1), nil
}
