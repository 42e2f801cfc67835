//go:build linux

// Command trace prints where one `berth run --rm busybox true` spends its
// time: it runs it with BERTH_TRACE (package trace) against a berthd in
// debug mode, merges the CLI's steps with the ones berthd wrote in its log
// (the shim's come through berthd), and prints one line per step with its
// start (from the moment the CLI was executed) and its duration, the
// median over -n runs.
//
//	go run ./bench/trace -bin bin            # its own berthd, -n 7 runs
//	go run ./bench/trace -host unix:///run/berth/berth.sock -log /path/to/berthd.log
//
// With -host, that berthd must run with -D, its log in -log.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil"
	"github.com/berth-project/berth/internal/trace"
)

func main() {
	bin := flag.String("bin", "bin", "directory holding berthd, berth and berth-shim")
	host := flag.String("host", "", "trace this berthd (run with -D) instead of starting one")
	logPath := flag.String("log", "", "with -host: that berthd's log")
	runs := flag.Int("n", 7, "traced runs (each step's median is shown)")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		args = []string{"run", "--rm", "--network", "none", "busybox", "true"}
	}
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}
	berth, _ := filepath.Abs(filepath.Join(*bin, "berth"))
	if *host == "" {
		d, err := testutil.NewDaemon()
		if err != nil {
			fail(err)
		}
		defer d.Close()
		if err := d.Start(); err != nil {
			fail(err)
		}
		tarPath, err := d.BusyboxTarPath()
		if err == nil {
			err = d.ImportBusybox(tarPath)
		}
		if err != nil {
			fail(err)
		}
		*host, *logPath = d.Host, d.LogPath
	} else if *logPath == "" {
		fail(fmt.Errorf("-host needs -log, the berthd's log"))
	}

	dir, err := os.MkdirTemp("", "berth-trace-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	var all []run
	for i := -1; i < *runs; i++ { // run -1 warms up
		r, err := traced(berth, *host, filepath.Join(dir, fmt.Sprintf("cli-%d", i)), args)
		if err != nil {
			fail(err)
		}
		if i >= 0 {
			all = append(all, r)
		}
	}
	time.Sleep(300 * time.Millisecond) // berthd logs the last steps after the CLI exits (the folder's removal)
	if err := collect(*logPath, all); err != nil {
		fail(err)
	}
	fmt.Printf("berth %s: median of %d traced runs (start: ms from the CLI's exec; dur: ms)\n", strings.Join(args, " "), len(all))
	print(os.Stdout, all)
}

// run is one traced run: when the CLI was executed, when it exited, and
// the steps recorded under its trace id.
type run struct {
	id          string
	exec, ended time.Time
	steps       []trace.Line
}

// traced runs the CLI once with BERTH_TRACE writing to cliLog.
func traced(berth, host, cliLog string, args []string) (run, error) {
	cmd := exec.Command(berth, append([]string{"-H", host}, args...)...)
	cmd.Env = append(os.Environ(), "BERTH_TRACE="+cliLog)
	began := time.Now()
	out, err := cmd.CombinedOutput()
	r := run{exec: began, ended: time.Now()}
	if err != nil {
		return r, fmt.Errorf("%s: %v: %s", cmd, err, out)
	}
	f, err := os.Open(cliLog)
	if err != nil {
		return r, fmt.Errorf("no trace from the CLI (is BERTH_TRACE supported?): %w", err)
	}
	defer f.Close()
	r.steps = parse(f, "")
	if len(r.steps) == 0 {
		return r, fmt.Errorf("the CLI wrote no trace")
	}
	r.id = r.steps[0].ID
	return r, nil
}

// collect adds to each run the steps berthd logged under its id.
func collect(logPath string, runs []run) error {
	f, err := os.Open(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	byID := map[string]*run{}
	for i := range runs {
		byID[runs[i].id] = &runs[i]
	}
	for _, l := range parse(f, "") {
		if r, ok := byID[l.ID]; ok {
			r.steps = append(r.steps, l)
		}
	}
	for _, r := range runs {
		if len(r.steps) < 3 {
			return fmt.Errorf("berthd logged no step of trace %s: does it run with -D?", r.id)
		}
	}
	return nil
}

// parse reads the trace lines of r (all ids when id is empty).
func parse(r io.Reader, id string) []trace.Line {
	var out []trace.Line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l, ok := trace.Parse(sc.Text()); ok && (id == "" || l.ID == id) {
			out = append(out, l)
		}
	}
	return out
}

// print shows each step's median start and duration over runs, ordered by
// start, then the whole run's.
func print(w io.Writer, runs []run) {
	type key struct{ src, step string }
	starts, durs := map[key][]time.Duration{}, map[key][]time.Duration{}
	var keys []key
	for _, r := range runs {
		for _, l := range r.steps {
			k := key{l.Src, strings.ReplaceAll(l.Step, ":", " ")}
			if _, ok := durs[k]; !ok {
				keys = append(keys, k)
			}
			starts[k] = append(starts[k], l.Start.Sub(r.exec))
			durs[k] = append(durs[k], l.Dur)
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		return benchutil.Median(starts[keys[i]]) < benchutil.Median(starts[keys[j]])
	})
	fmt.Fprintf(w, "%8s %8s  %-6s %s\n", "start", "dur", "who", "step")
	for _, k := range keys {
		fmt.Fprintf(w, "%8s %8s  %-6s %s\n", msOf(benchutil.Median(starts[k])), msOf(benchutil.Median(durs[k])), k.src, k.step)
	}
	var totals []time.Duration
	for _, r := range runs {
		totals = append(totals, r.ended.Sub(r.exec))
	}
	fmt.Fprintf(w, "%8s %8s  %-6s %s\n", "0.0", msOf(benchutil.Median(totals)), "cli", "the whole command (exec to exit)")
}

func msOf(d time.Duration) string {
	return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "trace: %v\n", err)
	os.Exit(1)
}
