//go:build linux

package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// printTable prints one row per metric and one column per engine, with the
// ratio of each other engine to berth.
func printTable(w io.Writer, cfg config, results []*engineResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "metric (median of %d)", cfg.runs)
	for _, r := range results {
		fmt.Fprintf(tw, "\t%s", r.name)
	}
	for _, r := range results[1:] {
		fmt.Fprintf(tw, "\t%s/berth", r.name)
	}
	fmt.Fprintln(tw)
	rows := []struct {
		name string
		get  func(*engineResult) float64
		show func(float64) string
	}{
		{"run --rm busybox true", durOf(func(r *engineResult) time.Duration { return r.runRm }), ms},
		{"run -d + rm -f", durOf(func(r *engineResult) time.Duration { return r.runDRm }), ms},
		{fmt.Sprintf("ps -a with %d containers", cfg.containers), durOf(func(r *engineResult) time.Duration { return r.ps }), ms},
		{"daemon idle RSS", func(r *engineResult) float64 { return float64(r.idleRSS) }, mb},
		{"shim RSS per container", func(r *engineResult) float64 { return float64(r.shimRSS) }, mb},
	}
	for _, row := range rows {
		fmt.Fprint(tw, row.name)
		base := row.get(results[0])
		for _, r := range results {
			fmt.Fprintf(tw, "\t%s", row.show(row.get(r)))
		}
		for _, r := range results[1:] {
			v := row.get(r)
			if v == 0 || base == 0 {
				fmt.Fprint(tw, "\t-")
			} else {
				fmt.Fprintf(tw, "\t%.2fx", v/base)
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, r := range results {
		if r.idleNote != "" {
			fmt.Fprintf(w, "(%s idle RSS counts %s; both engines run with --network none: container start, not networking; bench/network measures the bridge)\n", r.name, r.idleNote)
		}
	}
}

// printTargets compares berth's figures with the targets of the issue.
func printTargets(w io.Writer, cfg config, berth, runc *engineResult) {
	fmt.Fprintln(w)
	check := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	fmt.Fprintf(w, "target run --rm < 100 ms: %s (%s)\n", check(berth.runRm < 100*time.Millisecond), ms(float64(berth.runRm)))
	if runc != nil && runc.runRm > 0 {
		over := berth.runRm - runc.runRm
		fmt.Fprintf(w, "target run --rm at most 30 ms above runc alone: %s (%s above)\n", check(over <= 30*time.Millisecond), ms(float64(over)))
		fmt.Fprintf(w, "target run --rm at most 1.2x runc alone (median of %d paired ratios, runs in turn): %s (%.2fx)\n",
			cfg.runs, check(berth.runRmRatio <= 1.2), berth.runRmRatio)
	}
	fmt.Fprintf(w, "target berthd idle RSS < 30 MB: %s (%s)\n", check(berth.idleRSS < 30<<20), mb(float64(berth.idleRSS)))
	fmt.Fprintf(w, "target shim RSS < 8 MB: %s (%s)\n", check(berth.shimRSS > 0 && berth.shimRSS < 8<<20), mb(float64(berth.shimRSS)))
}

func durOf(f func(*engineResult) time.Duration) func(*engineResult) float64 {
	return func(r *engineResult) float64 { return float64(f(r)) }
}

func ms(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f ms", v/float64(time.Millisecond))
}

func mb(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MB", v/(1<<20))
}
