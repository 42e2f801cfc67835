//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// median runs f n times after one warm-up and returns the median duration.
func median(n int, f func() error) (time.Duration, error) {
	if err := f(); err != nil {
		return 0, err
	}
	var ds []time.Duration
	for range n {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], nil
}

// paired runs a and b in turn, n times after one warm-up of each, and
// returns the median of each and the median of the pairs' ratios a/b: the
// two of a pair are taken in the same moment, so the machine's drift falls
// on both.
func paired(n int, a, b func() error) (ma, mb time.Duration, ratio float64, err error) {
	if err := a(); err != nil {
		return 0, 0, 0, err
	}
	if err := b(); err != nil {
		return 0, 0, 0, err
	}
	var as, bs []time.Duration
	var ratios []float64
	for range n {
		start := time.Now()
		if err := a(); err != nil {
			return 0, 0, 0, err
		}
		da := time.Since(start)
		start = time.Now()
		if err := b(); err != nil {
			return 0, 0, 0, err
		}
		db := time.Since(start)
		as, bs, ratios = append(as, da), append(bs, db), append(ratios, float64(da)/float64(db))
	}
	sort.Slice(as, func(i, j int) bool { return as[i] < as[j] })
	sort.Slice(bs, func(i, j int) bool { return bs[i] < bs[j] })
	sort.Float64s(ratios)
	return as[n/2], bs[n/2], ratios[n/2], nil
}

// rss returns the resident set size of pid in bytes, from /proc.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			fields := strings.Fields(rest)
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// medianInt64 returns the median of xs (0 for none).
func medianInt64(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	return xs[len(xs)/2]
}

// childPids lists the direct children of pid.
func childPids(pid int) []int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if p, err := strconv.Atoi(f); err == nil {
			out = append(out, p)
		}
	}
	return out
}
