//go:build linux

// Command idle measures what idle containers cost in memory: it starts
// -containers containers that sleep (`run -d --network none busybox sleep`)
// on a private berthd and on a private dockerd 20.10, in turn, and sums the
// engine's own processes (berthd and one berth-shim per container; dockerd,
// its containerd and one containerd-shim per container), RSS and PSS from
// /proc/<pid>/smaps_rollup. The containers' own processes (the same on both)
// are left out. PSS shares each shared page among the processes that map
// it: with many shims, a shim's PSS is its private memory, what one more
// container costs.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil"
)

func main() {
	bin := flag.String("bin", "bin", "directory holding berthd, berth and berth-shim")
	n := flag.Int("containers", 1000, "idle containers per engine")
	workers := flag.Int("workers", 4, "containers started at once")
	settle := flag.Duration("settle", 5*time.Second, "wait after the last start before measuring")
	withDocker := flag.Bool("docker", true, "also measure dockerd when it is installed")
	rt := flag.String("runtime", "", "berth's OCI runtime for the containers (--runtime; default: berthd's)")
	flag.Parse()
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}
	var rows []result
	b, err := benchutil.StartBerth("idle")
	if err != nil {
		fail(err)
	}
	berthRun := b
	if *rt != "" {
		cli := b.CLI
		e := *b
		e.CLI = func(a ...string) (string, error) {
			if len(a) > 0 && a[0] == "run" {
				a = append([]string{"run", "--runtime", *rt}, a[1:]...)
			}
			return cli(a...)
		}
		berthRun = &e
	}
	r, err := measure(berthRun, *n, *workers, *settle, func() (engine []int, shims []int) {
		return []int{b.Berthd.Pid()}, testutil.ShimPids(b.Berthd.ExecRoot)
	})
	b.Close()
	if err != nil {
		fail(fmt.Errorf("berth: %w", err))
	}
	rows = append(rows, r)
	if *withDocker {
		d, err := benchutil.StartDockerNoBridge("idle")
		if err != nil {
			fail(fmt.Errorf("dockerd: %w", err))
		}
		if d != nil {
			dir := strings.TrimSuffix(strings.TrimPrefix(d.Host, "unix://"), "/docker.sock")
			r, err := measure(d, *n, *workers, *settle, func() (engine []int, shims []int) {
				return dockerPids(dir)
			})
			d.Close()
			if err != nil {
				fail(fmt.Errorf("docker: %w", err))
			}
			rows = append(rows, r)
		}
	}
	fmt.Printf("\n%d idle containers (sleep, --network none)\n", *n)
	fmt.Printf("%-8s %12s %12s %14s %14s %14s %14s\n", "engine", "daemons RSS", "daemons PSS", "shims RSS sum", "shims PSS sum", "shim RSS (med)", "shim PSS (med)")
	for _, r := range rows {
		fmt.Printf("%-8s %12s %12s %14s %14s %14s %14s\n", r.name, mb(r.engineRSS), mb(r.enginePSS), mb(r.shimsRSS), mb(r.shimsPSS), mb(r.shimRSS), mb(r.shimPSS))
	}
	for _, r := range rows {
		fmt.Printf("%s total PSS: %s (%d shims)\n", r.name, mb(r.enginePSS+r.shimsPSS), r.shims)
	}
}

type result struct {
	name                 string
	shims                int
	engineRSS, enginePSS int64
	shimsRSS, shimsPSS   int64
	shimRSS, shimPSS     int64 // medians
}

// measure starts n idle containers, measures the processes pids names, and
// removes the containers.
func measure(e *benchutil.Engine, n, workers int, settle time.Duration, pids func() (engine, shims []int)) (result, error) {
	r := result{name: e.Name}
	start := time.Now()
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				_, err := e.CLI("run", "-d", "--network", "none", "busybox", "sleep", "1d")
				errs <- err
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return r, err
		}
	}
	fmt.Fprintf(os.Stderr, "idle: %s: %d containers started in %s\n", e.Name, n, time.Since(start).Round(time.Second))
	time.Sleep(settle)
	engine, shims := pids()
	r.shims = len(shims)
	for _, pid := range engine {
		rss, pss := smaps(pid)
		r.engineRSS += rss
		r.enginePSS += pss
	}
	var rsss, psss []int64
	for _, pid := range shims {
		rss, pss := smaps(pid)
		r.shimsRSS += rss
		r.shimsPSS += pss
		rsss, psss = append(rsss, rss), append(psss, pss)
	}
	r.shimRSS, r.shimPSS = median(rsss), median(psss)
	if ids, err := e.CLI("ps", "-aq"); err == nil && ids != "" {
		for _, id := range strings.Fields(ids) {
			_, _ = e.CLI("rm", "-f", id)
		}
	}
	return r, nil
}

// dockerPids finds a private dockerd's processes by their command lines,
// which name its directory: dockerd and containerd are the engine, and the
// containerd-shims (runc v2) are the per-container supervisors.
func dockerPids(dir string) (engine, shims []int) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		if !strings.Contains(string(cmdline), dir) || len(args) == 0 {
			continue
		}
		switch base := filepath.Base(args[0]); {
		case strings.HasPrefix(base, "containerd-shim"):
			shims = append(shims, pid)
		case base == "dockerd", base == "containerd":
			engine = append(engine, pid)
		}
	}
	return engine, shims
}

// smaps returns pid's RSS and PSS in bytes (0, 0 when it is gone).
func smaps(pid int) (rss, pss int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "Rss:":
			rss = kb * 1024
		case "Pss:":
			pss = kb * 1024
		}
	}
	return rss, pss
}

func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func mb(b int64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }

func fail(err error) {
	fmt.Fprintf(os.Stderr, "idle: %v\n", err)
	os.Exit(1)
}
