//go:build linux

// Command toolbox measures berth's container toolbox beside a private
// dockerd in the same run: the round trip of `exec <c> true` (as the user
// sees it, CLI start included), `stats --no-stream` over 20 running
// containers, and a container writing 1 GB (dd, fsync'd) into a named
// volume against into its rw layer. Every container has --network none:
// what is measured is the toolbox, not network set-up (and a private
// dockerd shares docker0 with any other on the machine). Run it as root with
// `go run ./bench/toolbox -bin bin`; it is not part of `make test`.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
)

const tag = "bench/toolbox"

// config is what every engine is measured with.
type config struct {
	runs       int // exec round trips
	statsRuns  int
	containers int // running during stats
	sizeMB     int // written by dd
}

// result is one engine's figures.
type result struct {
	name         string
	exec         time.Duration // median exec round trip
	stats        time.Duration // median stats --no-stream
	volume, rwfs time.Duration // best dd run into a volume, into the rw layer
}

func main() {
	bin := flag.String("bin", "bin", "directory holding berthd, berth and berth-shim")
	runs := flag.Int("n", 20, "exec round trips (the median is reported)")
	statsRuns := flag.Int("stats-runs", 7, "stats --no-stream runs (the median is reported)")
	containers := flag.Int("containers", 20, "running containers during stats")
	size := flag.Int("mb", 1024, "megabytes each dd writes")
	withDocker := flag.Bool("docker", true, "also measure dockerd when it is installed")
	flag.Parse()
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}
	cfg := config{runs: *runs, statsRuns: *statsRuns, containers: *containers, sizeMB: *size}

	berth, err := benchutil.StartBerth(tag)
	if err != nil {
		fail(fmt.Errorf("berth: %w", err))
	}
	// docker is started after berth, so both run during every measurement
	engines := []*benchutil.Engine{berth}
	if *withDocker {
		switch d, err := benchutil.StartDocker(tag); {
		case err != nil:
			fmt.Fprintf(os.Stderr, "%s: dockerd: %v\n", tag, err)
		case d != nil:
			engines = append(engines, d)
		}
	}
	results, err := measure(cfg, engines)
	for _, e := range engines {
		e.Close()
	}
	if err != nil {
		fail(err)
	}
	printResults(cfg, results)
}

// measure takes the engines' figures. The exec round trips alternate
// between the engines, so that the load of a shared machine weighs on both
// alike; stats and dd run one engine after the other.
func measure(cfg config, engines []*benchutil.Engine) ([]*result, error) {
	results := make([]*result, len(engines))
	ids := make([][]string, len(engines))
	defer func() {
		for i, e := range engines {
			if len(ids[i]) > 0 {
				_, _ = e.CLI(append([]string{"rm", "-f"}, ids[i]...)...)
			}
		}
	}()
	execs := make([][]time.Duration, len(engines))
	for i, e := range engines {
		results[i] = &result{name: e.Name}
		id, err := e.CLI("run", "-d", "--network", "none", "busybox", "sleep", "3600")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		ids[i] = append(ids[i], id)
	}
	for round := range cfg.runs + 2 {
		for i, e := range engines {
			t0 := time.Now()
			if _, err := e.CLI("exec", ids[i][0], "true"); err != nil {
				return nil, fmt.Errorf("%s: %w", e.Name, err)
			}
			if round >= 2 { // two warm-ups
				execs[i] = append(execs[i], time.Since(t0))
			}
		}
	}
	for i, e := range engines {
		results[i].exec = benchutil.Median(execs[i])
		if err := measureStats(cfg, e, results[i], &ids[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		if err := measureWrites(cfg, e, results[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
	}
	return results, nil
}

// measureStats times stats --no-stream over cfg.containers running
// containers (ids holds the running ones; they are removed after).
func measureStats(cfg config, e *benchutil.Engine, r *result, ids *[]string) error {
	for len(*ids) < cfg.containers {
		id, err := e.CLI("run", "-d", "--network", "none", "busybox", "sleep", "3600")
		if err != nil {
			return err
		}
		*ids = append(*ids, id)
	}
	var stats []time.Duration
	for i := range cfg.statsRuns + 1 {
		t0 := time.Now()
		out, err := e.CLI("stats", "--no-stream")
		if err != nil {
			return err
		}
		took := time.Since(t0)
		if n := strings.Count(out, "\n"); n != cfg.containers {
			return fmt.Errorf("stats --no-stream shows %d rows, want %d:\n%s", n, cfg.containers, out)
		}
		if i > 0 {
			stats = append(stats, took)
		}
	}
	r.stats = benchutil.Median(stats)
	if _, err := e.CLI(append([]string{"rm", "-f"}, *ids...)...); err != nil {
		return err
	}
	*ids = nil
	return nil
}

// measureWrites times dd into a named volume against into the rw layer,
// alternated, best of two.
func measureWrites(cfg config, e *benchutil.Engine, r *result) error {
	vol := "toolbox-bench"
	if _, err := e.CLI("volume", "create", vol); err != nil {
		return err
	}
	defer func() { _, _ = e.CLI("volume", "rm", "-f", vol) }()
	count := "count=" + strconv.Itoa(cfg.sizeMB)
	for range 2 {
		for _, p := range []struct {
			args []string
			out  *time.Duration
		}{
			{[]string{"run", "--rm", "--network", "none", "-v", vol + ":/data", "busybox", "dd", "if=/dev/zero", "of=/data/f", "bs=1M", count, "conv=fsync"}, &r.volume},
			{[]string{"run", "--rm", "--network", "none", "busybox", "dd", "if=/dev/zero", "of=/tmp/f", "bs=1M", count, "conv=fsync"}, &r.rwfs},
		} {
			t0 := time.Now()
			if _, err := e.CLI(p.args...); err != nil {
				return err
			}
			if took := time.Since(t0); *p.out == 0 || took < *p.out {
				*p.out = took
			}
		}
	}
	return nil
}

func printResults(cfg config, results []*result) {
	fmt.Printf("%-8s %18s %26s %18s %18s\n", "engine", "exec true (median)", fmt.Sprintf("stats --no-stream (%d ctrs)", cfg.containers),
		fmt.Sprintf("dd %dMB volume", cfg.sizeMB), fmt.Sprintf("dd %dMB rw layer", cfg.sizeMB))
	for _, r := range results {
		fmt.Printf("%-8s %18s %26s %18s %18s\n", r.name, ms(r.exec), ms(r.stats), rate(cfg.sizeMB, r.volume), rate(cfg.sizeMB, r.rwfs))
	}
	b := results[0]
	fmt.Printf("\ntargets (berth): exec <= 40ms: %s (%s)", verdict(b.exec <= 40*time.Millisecond), ms(b.exec))
	if len(results) > 1 {
		d := results[1]
		fmt.Printf("; exec >= 3x faster than docker: %s (%.1fx)", verdict(d.exec >= 3*b.exec), float64(d.exec)/float64(b.exec))
	}
	fmt.Printf("; stats --no-stream <= 100ms: %s (%s); volume at least as fast as the rw layer: %s (%s vs %s)\n",
		verdict(b.stats <= 100*time.Millisecond), ms(b.stats), verdict(b.volume <= b.rwfs), ms(b.volume), ms(b.rwfs))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// rate is the time of a dd run (container start included) and its MB/s.
func rate(mb int, d time.Duration) string {
	return fmt.Sprintf("%s %.0fMB/s", ms(d), float64(mb)/d.Seconds())
}

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
