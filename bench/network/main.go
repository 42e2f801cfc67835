//go:build linux

// Command network measures the cost of berth's container networking: HTTP
// throughput through a published port on 127.0.0.1 against the container's
// own address, and the extra time `run --rm` takes on the default bridge
// over --network none. Where dockerd is installed it measures a private
// dockerd the same way. Run it as root with `go run ./bench/network -bin bin`;
// it is not part of `make test`.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
)

func main() {
	bin := flag.String("bin", "bin", "directory holding berthd, berth and berth-shim")
	dur := flag.Duration("d", 5*time.Second, "how long each throughput measurement runs")
	conc := flag.Int("c", 16, "concurrent keep-alive HTTP clients")
	runs := flag.Int("n", 20, "runs per timed command (the median is reported)")
	withDocker := flag.Bool("docker", true, "also measure dockerd when it is installed")
	flag.Parse()
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}
	cfg := config{duration: *dur, clients: *conc, runs: *runs}

	work, err := os.MkdirTemp("", "bench-network-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(work)
	fmt.Fprintln(os.Stderr, "bench/network: building the HTTP server image ...")
	imageTar, err := buildServerImage(work)
	if err != nil {
		fail(err)
	}

	var results []*result
	r, err := measure(cfg, imageTar, startBerth)
	if err != nil {
		fail(fmt.Errorf("berth: %w", err))
	}
	results = append(results, r)
	if *withDocker {
		switch r, err := measure(cfg, imageTar, startDocker); {
		case err != nil:
			fmt.Fprintf(os.Stderr, "bench/network: dockerd: %v\n", err)
		case r != nil:
			results = append(results, r)
		}
	}
	printResults(cfg, results)
}

// config is what every engine is measured with.
type config struct {
	duration time.Duration
	clients  int
	runs     int
}

// result is one engine's figures.
type result struct {
	name      string
	note      string
	published float64 // requests/s via 127.0.0.1:<published port>
	direct    float64 // requests/s via the container's address
	runBridge time.Duration
	runNone   time.Duration
}

func printResults(cfg config, results []*result) {
	fmt.Printf("HTTP throughput, %d keep-alive clients, %s each (requests/s)\n", cfg.clients, cfg.duration)
	fmt.Printf("%-8s %14s %14s %8s  %s\n", "engine", "published", "direct", "ratio", "")
	for _, r := range results {
		fmt.Printf("%-8s %14.0f %14.0f %7.1f%%  %s\n", r.name, r.published, r.direct, 100*r.published/r.direct, r.note)
	}
	fmt.Printf("\nrun --rm busybox true, median of %d\n", cfg.runs)
	fmt.Printf("%-8s %14s %14s %10s\n", "engine", "--network none", "bridge", "extra")
	for _, r := range results {
		fmt.Printf("%-8s %14s %14s %10s\n", r.name, ms(r.runNone), ms(r.runBridge), ms(r.runBridge-r.runNone))
	}
	b := results[0]
	fmt.Printf("\ntargets (berth): published/direct >= 90%%: %s (%.1f%%); bridge overhead < 10ms: %s (%s)\n",
		verdict(b.published >= 0.9*b.direct), 100*b.published/b.direct,
		verdict(b.runBridge-b.runNone < 10*time.Millisecond), ms(b.runBridge-b.runNone))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench/network: %v\n", err)
	os.Exit(1)
}
