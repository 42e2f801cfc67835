//go:build linux

// Command load measures berthd under load beside a private dockerd in the
// same run: `ps -a` with no containers and with 1,000 (through the CLI, as
// the user sees it, and the API call alone), a burst of 100 concurrent
// `run --rm` through the API, and 10,000 mixed API requests (inspect,
// list, logs, create/rm) with 100 events subscribers and 50 `logs -f`
// followers attached, with berthd's goroutines, fds and RSS before, during
// and after. Containers run with --network none: what is measured is the
// engine, not network set-up, and the private dockerd has no default
// bridge (docker0 stays with any other dockerd on the machine). Run it as root with `go run ./bench/load -bin
// bin`; it is not part of `make test`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil"
	"github.com/berth-project/berth/internal/testutil/loadgen"
)

const tag = "bench/load"

// config is what every engine is measured with.
type config struct {
	psRuns      int // ps -a runs (the median is reported)
	containers  int // containers during the second ps -a
	burst       int // concurrent run --rm
	requests    int // mixed requests
	subscribers int
	followers   int
}

// result is one engine's figures.
type result struct {
	name                 string
	ps0, psN             time.Duration // median ps -a, CLI
	api0, apiN           time.Duration // median GET /containers/json?all=1
	burst                time.Duration // wall time of the burst
	burstFailed          int
	mixed                time.Duration
	mixedFailed          int
	before, during, rest string // berthd's usage; "" for docker
}

func main() {
	bin := flag.String("bin", "bin", "directory holding berthd, berth and berth-shim")
	var cfg config
	flag.IntVar(&cfg.psRuns, "ps-runs", 11, "ps -a runs (the median is reported)")
	flag.IntVar(&cfg.containers, "containers", 1000, "containers for the second ps -a")
	flag.IntVar(&cfg.burst, "burst", 100, "concurrent run --rm")
	flag.IntVar(&cfg.requests, "requests", 10000, "mixed API requests")
	flag.IntVar(&cfg.subscribers, "subscribers", 100, "events subscribers during the mixed requests")
	flag.IntVar(&cfg.followers, "followers", 50, "logs -f followers during the mixed requests")
	withDocker := flag.Bool("docker", true, "also measure dockerd when it is installed")
	flag.Parse()
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}
	berth, err := benchutil.StartBerth(tag)
	if err != nil {
		fail(fmt.Errorf("berth: %w", err))
	}
	engines := []*benchutil.Engine{berth}
	if *withDocker {
		switch d, err := benchutil.StartDockerNoBridge(tag); {
		case err != nil:
			fmt.Fprintf(os.Stderr, "%s: dockerd: %v\n", tag, err)
		case d != nil:
			engines = append(engines, d)
		}
	}
	var results []*result
	for _, e := range engines {
		r, err := measure(cfg, e)
		if err != nil {
			err = fmt.Errorf("%s: %w", e.Name, err)
			for _, e := range engines {
				e.Close()
			}
			fail(err)
		}
		results = append(results, r)
	}
	for _, e := range engines {
		e.Close()
	}
	printResults(cfg, results)
}

// measure takes one engine's figures; it leaves no container behind.
func measure(cfg config, e *benchutil.Engine) (*result, error) {
	ctx := context.Background()
	c, err := client.New(client.WithHost(e.Host))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	defer loadgen.RemoveAll(ctx, c, 8)
	r := &result{name: e.Name}
	fmt.Fprintf(os.Stderr, "%s: %s: ps -a\n", tag, e.Name)
	if r.ps0, r.api0, err = timePs(ctx, cfg, e, c); err != nil {
		return nil, err
	}
	if err := loadgen.CreateMany(ctx, c, "bench-load", cfg.containers, 8); err != nil {
		return nil, err
	}
	if r.psN, r.apiN, err = timePs(ctx, cfg, e, c); err != nil {
		return nil, err
	}
	if err := loadgen.RemoveAll(ctx, c, 8); err != nil {
		return nil, err
	}

	fmt.Fprintf(os.Stderr, "%s: %s: %d concurrent run --rm\n", tag, e.Name, cfg.burst)
	if _, err := loadgen.RunRm(ctx, c, "none", "warm-up"); err != nil {
		return nil, err
	}
	t0 := time.Now()
	for _, err := range loadgen.Burst(ctx, c, "none", cfg.burst) {
		if err != nil {
			r.burstFailed++
			fmt.Fprintf(os.Stderr, "%s: %s: run --rm: %v\n", tag, e.Name, err)
		}
	}
	r.burst = time.Since(t0)

	fmt.Fprintf(os.Stderr, "%s: %s: %d mixed requests\n", tag, e.Name, cfg.requests)
	return r, mixed(ctx, cfg, e, c, r)
}

// timePs is the median of ps -a through the CLI and of the API call alone.
func timePs(ctx context.Context, cfg config, e *benchutil.Engine, c *client.Client) (cli, api time.Duration, err error) {
	var clis, apis []time.Duration
	for i := range cfg.psRuns + 1 {
		cli, api, err := benchutil.TimePs(ctx, e, c)
		if err != nil {
			return 0, 0, err
		}
		if i > 0 { // a warm-up
			clis, apis = append(clis, cli), append(apis, api)
		}
	}
	return benchutil.Median(clis), benchutil.Median(apis), nil
}

// mixed times the mixed requests with the streams attached.
func mixed(ctx context.Context, cfg config, e *benchutil.Engine, c *client.Client, r *result) error {
	var talkers []string
	for range 3 {
		res, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
			Config:     &containertypes.Config{Image: loadgen.Image, Cmd: loadgen.TalkerCmd},
			HostConfig: &containertypes.HostConfig{NetworkMode: "none"},
		})
		if err != nil {
			return err
		}
		if _, err := c.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
			return err
		}
		talkers = append(talkers, res.ID)
	}
	usage := func() string { return "" }
	if d := e.Berthd; d != nil {
		usage = func() string {
			u, err := d.Usage()
			if err != nil {
				return err.Error()
			}
			return u.String()
		}
	}
	time.Sleep(time.Second)
	r.before = usage()
	streams, err := loadgen.StartStreams(ctx, func() (*client.Client, error) { return client.New(client.WithHost(e.Host)) },
		cfg.subscribers, cfg.followers, talkers, "bench-mixed")
	if err != nil {
		return err
	}
	lc, err := client.New(client.WithHost(e.Host))
	if err != nil {
		streams.Stop()
		return err
	}
	t0 := time.Now()
	_, err = loadgen.Mix{Requests: cfg.requests, Workers: 16, Targets: talkers, Prefix: "bench-mixed"}.Run(ctx, lc)
	r.mixed = time.Since(t0)
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		r.mixedFailed = len(joined.Unwrap())
		fmt.Fprintf(os.Stderr, "%s: %s: first failure: %v\n", tag, e.Name, joined.Unwrap()[0])
	}
	r.during = usage()
	streams.Stop()
	lc.Close()
	if d := e.Berthd; d != nil {
		r.rest = settled(d)
	}
	return nil
}

// settled is berthd's usage once its goroutines stop falling (at most 30s).
func settled(d *testutil.Daemon) string {
	var last testutil.Usage
	for i := range 60 {
		u, err := d.Usage()
		if err != nil {
			return err.Error()
		}
		if i > 0 && u.Goroutines >= last.Goroutines {
			return u.String()
		}
		last = u
		time.Sleep(500 * time.Millisecond)
	}
	return last.String()
}

func printResults(cfg config, results []*result) {
	fmt.Printf("%-8s %14s %14s %18s %18s %22s %26s\n", "engine", "ps -a (0)", "API (0)",
		fmt.Sprintf("ps -a (%d)", cfg.containers), fmt.Sprintf("API (%d)", cfg.containers),
		fmt.Sprintf("%d run --rm at once", cfg.burst), fmt.Sprintf("%d mixed requests", cfg.requests))
	for _, r := range results {
		fmt.Printf("%-8s %14s %14s %18s %18s %22s %26s\n", r.name, ms(r.ps0), ms(r.api0), ms(r.psN), ms(r.apiN),
			fmt.Sprintf("%s %.1f/s%s", ms(r.burst), float64(cfg.burst)/r.burst.Seconds(), failures(r.burstFailed)),
			fmt.Sprintf("%s %.0f/s%s", ms(r.mixed), float64(cfg.requests)/r.mixed.Seconds(), failures(r.mixedFailed)))
	}
	b := results[0]
	fmt.Printf("\nberthd during the mixed requests (%d events subscribers, %d logs -f followers):\n  before  %s\n  during  %s\n  after   %s\n",
		cfg.subscribers, cfg.followers, b.before, b.during, b.rest)
	fmt.Printf("\ntarget (berth): ps -a with %d containers < 50ms: %s (CLI %s, API %s)", cfg.containers,
		verdict(b.psN < 50*time.Millisecond), ms(b.psN), ms(b.apiN))
	if len(results) > 1 {
		d := results[1]
		fmt.Printf("; ratios berth/docker: ps -a (%d) %.2f, burst %.2f, mixed %.2f", cfg.containers,
			float64(b.psN)/float64(d.psN), float64(b.burst)/float64(d.burst), float64(b.mixed)/float64(d.mixed))
	}
	fmt.Println()
}

func failures(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d FAILED)", n)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", tag, err)
	os.Exit(1)
}
