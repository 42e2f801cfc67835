//go:build linux

package main

import (
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
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
	d, cli, err := benchutil.StartBerthd()
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "bench/network: berth ...")
	return &engine{
		name: "berth",
		note: "nftables DNAT",
		cli:  cli,
		close: func() {
			if err := d.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "bench/network: tear down berthd: %v\n", err)
			}
		},
	}, nil
}

// startDocker starts a private dockerd (see benchutil.Dockerd: its
// published ports go through docker-proxy, which is also what docker uses
// for connections to 127.0.0.1 from the host by default).
func startDocker() (*engine, error) {
	fmt.Fprintln(os.Stderr, "bench/network: dockerd ...")
	d, err := benchutil.StartDockerd()
	if err != nil || d == nil {
		if d == nil && err == nil {
			fmt.Fprintln(os.Stderr, "bench/network: dockerd is not installed; skipping the docker comparison")
		}
		return nil, err
	}
	return &engine{name: "docker", note: "--iptables=false: docker-proxy", cli: d.CLI, close: d.Close}, nil
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

// medianDuration returns the median of ds (0 for none).
func medianDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
