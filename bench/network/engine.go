//go:build linux

package main

import (
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
)

// engine is a private daemon with busybox:latest loaded (benchutil.Engine).
type engine = benchutil.Engine

// starter starts an engine; a nil engine and nil error mean "not installed".
type starter func() (*engine, error)

// startBerth starts a private berthd on its own bridge and nftables table.
func startBerth() (*engine, error) {
	e, err := benchutil.StartBerth("bench/network")
	if e != nil {
		e.Note = "nftables DNAT"
	}
	return e, err
}

// startDocker starts a private dockerd (see benchutil.Dockerd: its
// published ports go through docker-proxy, which is also what docker uses
// for connections to 127.0.0.1 from the host by default).
func startDocker() (*engine, error) {
	e, err := benchutil.StartDocker("bench/network")
	if e != nil {
		e.Note = "--iptables=false: docker-proxy"
	}
	return e, err
}

// measure starts an engine and takes its figures.
func measure(cfg config, imageTar string, start starter) (*result, error) {
	e, err := start()
	if err != nil || e == nil {
		return nil, err
	}
	defer e.Close()
	r := &result{name: e.Name, note: e.Note}
	if _, err := e.CLI("import", "--change", `CMD ["/srv"]`, imageTar, "netbench-srv:latest"); err != nil {
		return nil, err
	}
	id, err := e.CLI("run", "-d", "--network", "bridge", "-p", "127.0.0.1::8080", "netbench-srv:latest")
	if err != nil {
		return nil, err
	}
	port, err := e.CLI("inspect", "-f", `{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}`, id)
	if err != nil {
		return nil, err
	}
	ip, err := e.CLI("inspect", "-f", "{{.NetworkSettings.Networks.bridge.IPAddress}}", id)
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
	if _, err := e.CLI("rm", "-f", id); err != nil {
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
			if _, err := e.CLI("run", "--rm", "--network", p.network, "busybox", "true"); err != nil {
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

// medianDuration returns the median of ds (0 for none).
func medianDuration(ds []time.Duration) time.Duration { return benchutil.Median(ds) }
