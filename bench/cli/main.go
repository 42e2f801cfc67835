//go:build linux

// Command cli measures the client's own costs (issue 12), beside docker in
// the same run: `berth --version` against an empty static Go binary built
// here (and `docker --version`), in turn; and `ps -a` through each engine's
// CLI (and the API call alone) on two engines of a kind, one with no
// container and one with 1,000 created ones, in turn, the ratio taken
// within each round.
//
// -hold starts a berthd with the containers, prints its address and waits
// for SIGINT/SIGTERM, for profiling by hand.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/moby/moby/client"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil/loadgen"
)

const tag = "bench/cli"

type psResult struct {
	name       string
	ps0, psN   time.Duration // ps -a through the CLI, median
	api0, apiN time.Duration // GET /containers/json?all=1, median
	ratio      float64       // median of the rounds' psN/ps0
}

func main() {
	bin := flag.String("bin", "bin", "directory of the berth binaries")
	runs := flag.Int("runs", 31, "runs of each command (the median is reported)")
	containers := flag.Int("containers", 1000, "containers for the second ps -a")
	withDocker := flag.Bool("docker", true, "also measure docker when it is installed")
	hold := flag.Bool("hold", false, "start a berthd with the containers, print its address and wait for a signal")
	flag.Parse()
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}
	berthBin, err := filepath.Abs(filepath.Join(*bin, "berth"))
	if err != nil {
		fail(err)
	}
	if *hold {
		holdDaemon(*containers)
		return
	}

	fmt.Fprintf(os.Stderr, "%s: --version\n", tag)
	empty, cleanup, err := emptyBinary()
	if err != nil {
		fail(err)
	}
	defer cleanup()
	cmds := [][]string{{empty}, {berthBin, "--version"}}
	dockerCLI, _ := exec.LookPath("docker")
	if *withDocker && dockerCLI != "" {
		cmds = append(cmds, []string{dockerCLI, "--version"})
	}
	versions, ratio, err := timeVersions(cmds, *runs)
	if err != nil {
		fail(err)
	}

	// two engines of each kind, one empty and one with the containers, so
	// that the two ps -a alternate and each ratio is taken within a round
	var results []psResult
	kinds := []func() (*benchutil.Engine, error){func() (*benchutil.Engine, error) { return benchutil.StartBerth(tag) }}
	if *withDocker {
		kinds = append(kinds, func() (*benchutil.Engine, error) { return benchutil.StartDockerNoBridge(tag) })
	}
	for _, start := range kinds {
		r, ok, err := measurePs(start, *containers, *runs)
		if err != nil {
			fail(err)
		}
		if ok {
			results = append(results, r)
		}
	}

	fmt.Printf("\n%-28s %10s\n", fmt.Sprintf("--version, median of %d", *runs), "wall")
	names := []string{"empty static Go binary", "berth --version", "docker --version"}
	for i, d := range versions {
		fmt.Printf("%-28s %10s\n", names[i], ms(d))
	}
	fmt.Printf("\n%-8s %12s %12s %14s %14s %10s\n", "engine", "ps -a (0)", "API (0)",
		fmt.Sprintf("ps -a (%d)", *containers), fmt.Sprintf("API (%d)", *containers), "ratio")
	for _, r := range results {
		fmt.Printf("%-8s %12s %12s %14s %14s %9.2fx\n", r.name, ms(r.ps0), ms(r.api0), ms(r.psN), ms(r.apiN), r.ratio)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\ntargets (berth): --version at most 2x the empty binary: %.2fx; ps -a (%d) at most 1.3x ps -a (0): %.2fx (load average %s)\n",
		ratio, *containers, results[0].ratio, strings.Join(strings.Fields(string(load))[:3], " "))
}

// emptyBinary builds `package main; func main() {}` as a static binary.
func emptyBinary() (string, func(), error) {
	dir, err := os.MkdirTemp("", "bench-cli-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	files := map[string]string{
		"go.mod":  "module empty\n",
		"main.go": "package main\n\nfunc main() {}\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	cmd := exec.Command("go", "build", "-o", "empty", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build the empty binary: %v: %s", err, out)
	}
	return filepath.Join(dir, "empty"), cleanup, nil
}

// timeVersions runs the commands in turn, runs times (after a warm-up), and
// returns each one's median and the median of the rounds' ratios of the
// second to the first.
func timeVersions(cmds [][]string, runs int) ([]time.Duration, float64, error) {
	times := make([][]time.Duration, len(cmds))
	var ratios []float64
	for i := range runs + 1 {
		round := make([]time.Duration, len(cmds))
		for j, c := range cmds {
			t0 := time.Now()
			if _, err := benchutil.Run(c[0], c[1:]...); err != nil {
				return nil, 0, err
			}
			round[j] = time.Since(t0)
		}
		if i == 0 {
			continue // a warm-up
		}
		for j := range cmds {
			times[j] = append(times[j], round[j])
		}
		ratios = append(ratios, float64(round[1])/float64(round[0]))
	}
	meds := make([]time.Duration, len(cmds))
	for j := range cmds {
		meds[j] = benchutil.Median(times[j])
	}
	slices.Sort(ratios)
	return meds, ratios[len(ratios)/2], nil
}

// measurePs starts two engines with start, creates n containers in the
// second, and times ps -a on each in turn; ok is false when start gives no
// engine (docker not installed). It leaves no engine or container behind.
func measurePs(start func() (*benchutil.Engine, error), n, runs int) (r psResult, ok bool, err error) {
	ctx := context.Background()
	var engines [2]*benchutil.Engine
	var clients [2]*client.Client
	defer func() {
		for i, e := range engines {
			if clients[i] != nil {
				_ = loadgen.RemoveAll(ctx, clients[i], 8)
				clients[i].Close()
			}
			if e != nil {
				e.Close()
			}
		}
	}()
	for i := range engines {
		e, err := start()
		if err != nil || e == nil {
			return r, false, err
		}
		engines[i] = e
		if clients[i], err = client.New(client.WithHost(e.Host)); err != nil {
			return r, false, err
		}
	}
	r.name = engines[0].Name
	fmt.Fprintf(os.Stderr, "%s: %s: create %d\n", tag, r.name, n)
	if err := loadgen.CreateMany(ctx, clients[1], "bench-cli", n, 8); err != nil {
		return r, false, err
	}
	fmt.Fprintf(os.Stderr, "%s: %s: ps -a (0) and (%d)\n", tag, r.name, n)
	var cli0, api0, cliN, apiN []time.Duration
	var ratios []float64
	for i := range runs + 1 {
		c0, a0, err := benchutil.TimePs(ctx, engines[0], clients[0])
		if err != nil {
			return r, false, err
		}
		cN, aN, err := benchutil.TimePs(ctx, engines[1], clients[1])
		if err != nil {
			return r, false, err
		}
		if i == 0 {
			continue // a warm-up
		}
		cli0, api0, cliN, apiN = append(cli0, c0), append(api0, a0), append(cliN, cN), append(apiN, aN)
		ratios = append(ratios, float64(cN)/float64(c0))
	}
	slices.Sort(ratios)
	r.ratio = ratios[len(ratios)/2]
	r.ps0, r.api0, r.psN, r.apiN = benchutil.Median(cli0), benchutil.Median(api0), benchutil.Median(cliN), benchutil.Median(apiN)
	return r, true, nil
}

// holdDaemon starts a berthd with n containers and waits for a signal.
func holdDaemon(n int) {
	e, err := benchutil.StartBerth(tag)
	if err != nil {
		fail(err)
	}
	defer e.Close()
	ctx := context.Background()
	c, err := client.New(client.WithHost(e.Host))
	if err != nil {
		fail(err)
	}
	defer c.Close()
	if err := loadgen.CreateMany(ctx, c, "bench-cli", n, 8); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Printf("berthd with %d containers: -H %s (debug socket under %s); SIGINT to stop\n", n, e.Host, e.Berthd.ExecRoot)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	_ = loadgen.RemoveAll(ctx, c, 8)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func fail(err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", tag, err)
	os.Exit(1)
}
