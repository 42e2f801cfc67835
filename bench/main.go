//go:build linux

// Command bench measures berth against the OCI runtime alone and, where
// installed, against dockerd: medians over repeated runs of the same
// commands, plus the resident memory of berthd and of one shim. `make bench`
// runs it; it is not part of `make test`.
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
	runs := flag.Int("n", 20, "runs per timed command (the median is reported)")
	containers := flag.Int("containers", 100, "containers present while timing ps")
	withDocker := flag.Bool("docker", true, "also measure dockerd when it is installed")
	flag.Parse()
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}

	cfg := config{runs: *runs, containers: *containers}
	var results []*engineResult

	runcOnce, cleanup, err := runcAlone()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: runc alone: %v\n", err)
	} else {
		defer cleanup()
	}
	berth, runc, err := benchBerth(cfg, runcOnce)
	if err != nil {
		fail(fmt.Errorf("berth: %w", err))
	}
	results = append(results, berth)
	if runc != nil {
		results = append(results, runc)
	}

	// crun alone, where installed: the runtime berthd picks by default there
	if crun, err := benchCrun(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "bench: crun alone: %v\n", err)
	} else if crun != nil {
		results = append(results, crun)
	}

	if *withDocker {
		if docker, err := benchDocker(cfg); err != nil {
			fmt.Fprintf(os.Stderr, "bench: dockerd: %v\n", err)
		} else if docker != nil {
			results = append(results, docker)
		}
	}
	printTable(os.Stdout, cfg, results)
	printTargets(os.Stdout, cfg, berth, runc)
}

// config is what every engine is measured with.
type config struct {
	runs       int
	containers int
}

// engineResult holds one engine's figures; a zero value means not measured.
type engineResult struct {
	name  string
	runRm time.Duration // run --rm busybox true
	// runRmRatio is the median of run --rm / runc run alone, taken in
	// pairs in turn (berth only, when runc alone was measured)
	runRmRatio float64
	runDRm     time.Duration // run -d + rm -f
	ps         time.Duration // ps -a with cfg.containers containers
	idleRSS    int64         // bytes, the engine's daemons when idle
	shimRSS    int64         // bytes, one container's supervisor
	idleNote   string
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench: %v\n", err)
	os.Exit(1)
}
