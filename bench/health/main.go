//go:build linux

// Command health measures what healthchecks cost the engine: it runs N
// containers whose healthcheck (`true`) runs every second and reports the
// engine's CPU use over a window, as a percentage of one core, read from
// /proc/<pid>/stat. For berth that is berthd alone (the probes' scheduling,
// bookkeeping and persistence) and berthd with the shims (which run `runc
// exec` for every probe; the runc processes they waited for are included);
// for docker, where dockerd is installed, dockerd, then dockerd with its
// containerd and the containerd shims. Run it as root with
// `go run ./bench/health -bin bin`; it is not part of `make test`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil"
)

// target is the share of one core berthd may use for 50 containers probed
// every second.
const target = 5.0

func main() {
	bin := flag.String("bin", "bin", "directory holding berthd, berth and berth-shim")
	n := flag.Int("n", 50, "containers with a healthcheck")
	window := flag.Duration("d", 30*time.Second, "how long CPU use is measured")
	interval := flag.Duration("interval", time.Second, "the healthcheck's interval")
	withDocker := flag.Bool("docker", true, "also measure dockerd when it is installed")
	flag.Parse()
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}
	cfg := config{containers: *n, window: *window, interval: *interval}

	var results []*result
	r, err := measure(cfg, startBerth)
	if err != nil {
		fail(fmt.Errorf("berth: %w", err))
	}
	results = append(results, r)
	if *withDocker {
		switch r, err := measure(cfg, startDocker); {
		case err != nil:
			fmt.Fprintf(os.Stderr, "bench/health: dockerd: %v\n", err)
		case r != nil:
			results = append(results, r)
		}
	}
	printResults(cfg, results)
}

type config struct {
	containers int
	window     time.Duration
	interval   time.Duration
}

// engine is a private daemon with busybox:latest loaded.
type engine struct {
	name string
	cli  func(args ...string) (string, error)
	// daemon is the engine's own process (berthd, dockerd); helpers are
	// the other processes it runs the containers with (shims, containerd).
	daemon  func() []int
	helpers func() []int
	close   func()
}

type result struct {
	name           string
	daemon, helped float64 // % of one core: the daemon, the daemon with its helpers
	probes         float64 // probes per second, from the containers' health logs
	unhealthy      int
}

func startBerth() (*engine, error) {
	e, err := benchutil.StartBerth("bench/health")
	if err != nil {
		return nil, err
	}
	d := e.Berthd
	return &engine{
		name:    "berth",
		cli:     e.CLI,
		daemon:  func() []int { return []int{d.Pid()} },
		helpers: func() []int { return testutil.ShimPids(d.ExecRoot) },
		close:   e.Close,
	}, nil
}

func startDocker() (*engine, error) {
	d, err := benchutil.StartDockerd()
	if err != nil || d == nil {
		if d == nil && err == nil {
			fmt.Fprintln(os.Stderr, "bench/health: dockerd is not installed; skipping the docker comparison")
		}
		return nil, err
	}
	return &engine{
		name:   "docker",
		cli:    d.CLI,
		daemon: func() []int { return []int{d.Pid()} },
		// dockerd's own containerd is its child; the shims name its socket,
		// which lives under the daemon's directory
		helpers: func() []int { return processesMentioning(d.Dir, "containerd") },
		close:   d.Close,
	}, nil
}

// measure starts the engine, runs the containers, lets their checks settle
// and takes the CPU figures over the window.
func measure(cfg config, start func() (*engine, error)) (*result, error) {
	e, err := start()
	if err != nil || e == nil {
		return nil, err
	}
	defer e.close()
	fmt.Fprintf(os.Stderr, "bench/health: %s: starting %d containers ...\n", e.name, cfg.containers)
	names := make([]string, cfg.containers)
	for i := range names {
		names[i] = fmt.Sprintf("hc%d", i)
		if _, err := e.cli("run", "-d", "--name", names[i], "--health-cmd", "true", "--health-interval", cfg.interval.String(), "busybox", "sleep", "3600"); err != nil {
			return nil, err
		}
	}
	settle := 3*cfg.interval + 2*time.Second
	fmt.Fprintf(os.Stderr, "bench/health: %s: settling %s, measuring %s ...\n", e.name, settle, cfg.window)
	time.Sleep(settle)

	pids := append(e.daemon(), e.helpers()...)
	before, err := cpuTicks(pids)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	time.Sleep(cfg.window)
	after, err := cpuTicks(pids)
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(began).Seconds()
	percent := func(pids []int) float64 {
		var ticks int64
		for _, p := range pids {
			ticks += after[p] - before[p]
		}
		return 100 * float64(ticks) / clockTicks / elapsed
	}
	r := &result{name: e.name, daemon: percent(e.daemon()), helped: percent(pids)}
	fmt.Fprintf(os.Stderr, "bench/health: %s: daemon %.1f%%, with its helpers %.1f%% of one core\n", e.name, r.daemon, r.helped)

	// the probe rate and the health the containers reached, from inspect
	out, err := e.cli(append([]string{"inspect", "-f", "{{.State.Health.Status}}{{range .State.Health.Log}} {{.Start.UnixNano}}{{end}}"}, names...)...)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "healthy" {
			r.unhealthy++
			continue
		}
		// each container's rate over the span of its log (the last 5 probes)
		if len(f) < 3 {
			continue
		}
		first, err1 := strconv.ParseInt(f[1], 10, 64)
		last, err2 := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err1 == nil && err2 == nil && last > first {
			r.probes += float64(len(f)-2) / time.Duration(last-first).Seconds()
		}
	}
	return r, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times (100 on every
// Linux architecture Go supports).
const clockTicks = 100

// cpuTicks reads, for each pid, the CPU time it and its waited-for children
// used (utime + stime + cutime + cstime). A process gone is left out.
func cpuTicks(pids []int) (map[int]int64, error) {
	ticks := map[int]int64{}
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// the command name may hold spaces: the fields start after its ")"
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 15 {
			return nil, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
		}
		var sum int64
		for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime (fields 14-17)
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("/proc/%d/stat: %w", pid, err)
			}
			sum += v
		}
		ticks[pid] = sum
	}
	return ticks, nil
}

// processesMentioning lists the processes whose executable's name holds
// name and whose command line mentions dir.
func processesMentioning(dir, name string) []int {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, p := range procs {
		exe, _ := os.Readlink(p + "/exe")
		cmdline, _ := os.ReadFile(p + "/cmdline")
		if pid, err := strconv.Atoi(filepath.Base(p)); err == nil && strings.Contains(filepath.Base(exe), name) && strings.Contains(string(cmdline), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func printResults(cfg config, results []*result) {
	fmt.Printf("%d containers, healthcheck `true` every %s, CPU over %s (%% of one core)\n", cfg.containers, cfg.interval, cfg.window)
	fmt.Printf("%-8s %10s %22s %10s %10s\n", "engine", "daemon", "daemon+shims(+runc)", "probes/s", "unhealthy")
	for _, r := range results {
		fmt.Printf("%-8s %9.1f%% %21.1f%% %10.1f %10d\n", r.name, r.daemon, r.helped, r.probes, r.unhealthy)
	}
	verdict := "met"
	if results[0].daemon >= target {
		verdict = "MISSED"
	}
	fmt.Printf("\ntarget (berth): berthd under %.0f%% of one core: %s (%.1f%%)\n", target, verdict, results[0].daemon)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bench/health: %v\n", err)
	os.Exit(1)
}
