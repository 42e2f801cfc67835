//go:build linux

// Command kube times a Kubernetes node on berthd against the same node on
// Debian's dockerd 20.10 (issue 13's Performance section): from creating a
// Deployment of 10 replicas until all 10 pods are Ready, and the memory of
// the engine (with its containerd and shims) plus cri-dockerd while they
// run. Both nodes are single-node clusters that scripts/kube-node.sh runs
// side by side, each in its own network and mount namespaces, with the same
// Kubernetes 1.37.2 binaries (scripts/kube-build.sh) and the same
// cri-dockerd; the rounds alternate between them so that the machine's
// drift falls on both. Both use cri-dockerd-oom0 (sandbox oom_score_adj 0)
// by default: dockerd cannot start a sandbox at -998 on a host without
// CAP_SYS_RESOURCE. Run as root with `go run ./bench/kube -bin bin`
// (`make bench-kube`); it is not part of `make test` or `make bench`.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
)

type node struct {
	engine string
	dir    string
	script string
	env    []string
	times  []time.Duration
	mem    []memory
}

// memory is what the engine side of a node costs, in KiB.
type memory struct {
	engineRSS, enginePSS int // berthd; dockerd and containerd
	shimRSS, shimPSS     int // berth-shim; containerd-shim-runc-v2
	shims                int
	criRSS, criPSS       int // cri-dockerd
}

func (m memory) totalRSS() int { return m.engineRSS + m.shimRSS + m.criRSS }
func (m memory) totalPSS() int { return m.enginePSS + m.shimPSS + m.criPSS }

func main() {
	bin := flag.String("bin", "bin", "folder holding berthd, berth and berth-shim")
	pods := flag.Int("pods", 10, "replicas of the Deployment")
	rounds := flag.Int("rounds", 3, "rounds per engine")
	cache := flag.String("kube-cache", envOr("BERTH_KUBE_CACHE", "/var/tmp/berth-kube"), "scripts/kube-build.sh's cache")
	cri := flag.String("cri-dockerd", "", "cri-dockerd binary for both nodes (default <kube-cache>/bin/cri-dockerd-oom0)")
	flag.Parse()
	if err := run(*bin, *cache, *cri, *pods, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench/kube:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(bin, cache, cri string, pods, rounds int) error {
	if err := benchutil.Setup(bin); err != nil {
		return err
	}
	bin, _ = filepath.Abs(bin)
	script, err := filepath.Abs("scripts/kube-node.sh")
	if err != nil {
		return err
	}
	if cri == "" {
		cri = filepath.Join(cache, "bin", "cri-dockerd-oom0")
		if _, err := os.Stat(cri); err != nil {
			if out, err := exec.Command("scripts/kube-build.sh", "cri-dockerd-oom0").CombinedOutput(); err != nil {
				return fmt.Errorf("kube-build.sh cri-dockerd-oom0: %v\n%s", err, out)
			}
		}
	}
	var nodes []*node
	defer func() {
		for _, n := range nodes {
			if out, err := n.cmd("down").CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "down %s: %v\n%s", n.engine, err, out)
			}
			os.RemoveAll(n.dir)
		}
	}()
	for _, engine := range []string{"berth", "docker"} {
		dir, err := os.MkdirTemp("", "kbench-"+engine+"-")
		if err != nil {
			return err
		}
		n := &node{engine: engine, dir: dir, script: script, env: append(os.Environ(),
			"BERTH_BIN_DIR="+bin, "BERTH_KUBE_CACHE="+cache, "KUBE_NODE_ENGINE="+engine, "KUBE_NODE_CRI_DOCKERD="+cri)}
		nodes = append(nodes, n)
		start := time.Now()
		if out, err := n.cmd("up", "cluster").CombinedOutput(); err != nil {
			return fmt.Errorf("%s node up: %v\n%s", engine, err, out)
		}
		fmt.Fprintf(os.Stderr, "%s node up in %s\n", engine, time.Since(start).Round(time.Millisecond))
	}
	idle := make([]memory, len(nodes))
	for i, n := range nodes {
		if idle[i], err = n.memory(); err != nil {
			return err
		}
	}
	for r := 0; r < rounds; r++ {
		for i := range nodes {
			// Alternate which engine goes first.
			n := nodes[(i+r)%len(nodes)]
			d, m, err := n.round(r, pods)
			if err != nil {
				return err
			}
			n.times = append(n.times, d)
			n.mem = append(n.mem, m)
			fmt.Fprintf(os.Stderr, "round %d %s: %d pods Ready in %s, engine+cri-dockerd RSS %d MiB\n", r, n.engine, pods, d.Round(time.Millisecond), m.totalRSS()/1024)
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\nbench/kube: a %d-replica Deployment from create to all Ready (median of %d), and the engine's memory with the pods running; load average %s\n",
		pods, rounds, strings.Join(strings.Fields(string(load))[:3], " "))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "engine\tto Ready\tengine RSS/PSS\tshims (n) RSS/PSS\tcri-dockerd RSS/PSS\ttotal RSS/PSS\tidle total RSS")
	med := make([]time.Duration, len(nodes))
	last := make([]memory, len(nodes))
	for i, n := range nodes {
		med[i] = benchutil.Median(n.times)
		m := n.mem[len(n.mem)-1]
		last[i] = m
		fmt.Fprintf(tw, "%s\t%s\t%.1f/%.1f MiB\t(%d) %.1f/%.1f MiB\t%.1f/%.1f MiB\t%.1f/%.1f MiB\t%.1f MiB\n", n.engine, med[i].Round(time.Millisecond),
			mib(m.engineRSS), mib(m.enginePSS), m.shims, mib(m.shimRSS), mib(m.shimPSS), mib(m.criRSS), mib(m.criPSS),
			mib(m.totalRSS()), mib(m.totalPSS()), mib(idle[i].totalRSS()))
	}
	tw.Flush()
	fmt.Printf("berth/docker: time to Ready %.2fx (target <= 0.5x), engine+cri-dockerd PSS %.2fx, RSS %.2fx (target < 0.25x)\n",
		float64(med[0])/float64(med[1]), float64(last[0].totalPSS())/float64(last[1].totalPSS()),
		float64(last[0].totalRSS())/float64(last[1].totalRSS()))
	return nil
}

func mib(kib int) float64 { return float64(kib) / 1024 }

func (n *node) cmd(args ...string) *exec.Cmd {
	c := exec.Command(n.script, append(args[:1:1], append([]string{n.dir}, args[1:]...)...)...)
	c.Env = n.env
	return c
}

func (n *node) kubectl(args ...string) (string, error) {
	out, err := n.cmd(append([]string{"kubectl"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: kubectl %s: %v\n%s", n.engine, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// round creates a Deployment of pods replicas, times it to all Ready (by
// `kubectl rollout status`, which watches), measures the memory, and
// deletes it, waiting (untimed) until its containers are gone.
func (n *node) round(r, pods int) (time.Duration, memory, error) {
	name := fmt.Sprintf("bench%d", r)
	f := filepath.Join(n.dir, name+".yaml")
	yaml := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec:
  replicas: %d
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: busybox:1.0
        imagePullPolicy: Never
        command: [sh, -c, "trap 'exit 0' TERM; sleep 3600 & wait"]
`, name, pods, name, name)
	if err := os.WriteFile(f, []byte(yaml), 0o644); err != nil {
		return 0, memory{}, err
	}
	start := time.Now()
	if _, err := n.kubectl("apply", "-f", f); err != nil {
		return 0, memory{}, err
	}
	if _, err := n.kubectl("rollout", "status", "deployment/"+name, "--timeout", "10m"); err != nil {
		return 0, memory{}, err
	}
	d := time.Since(start)
	m, err := n.memory()
	if err != nil {
		return 0, memory{}, err
	}
	if _, err := n.kubectl("delete", "deployment", name, "--wait=true"); err != nil {
		return 0, memory{}, err
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		out, err := n.kubectl("get", "pods", "-l", "app="+name, "-o", "name")
		if err == nil && strings.TrimSpace(out) == "" {
			break
		}
		if time.Now().After(deadline) {
			return 0, memory{}, fmt.Errorf("%s: pods of %s not gone: %s", n.engine, name, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return d, m, nil
}

// memory sums the RSS and PSS (smaps_rollup) of the node's engine processes
// and cri-dockerd.
func (n *node) memory() (memory, error) {
	out, err := n.cmd("pids").Output()
	if err != nil {
		return memory{}, fmt.Errorf("%s: kube-node.sh pids: %v", n.engine, err)
	}
	var m memory
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		rss, pss := rollup(f[0])
		switch {
		case strings.HasPrefix(f[1], "cri-dockerd"):
			m.criRSS += rss
			m.criPSS += pss
		case f[1] == "berth-shim" || strings.HasPrefix(f[1], "containerd-shim"):
			m.shimRSS += rss
			m.shimPSS += pss
			m.shims++
		default:
			m.engineRSS += rss
			m.enginePSS += pss
		}
	}
	return m, nil
}

// rollup reads a process's Rss and Pss from /proc/<pid>/smaps_rollup, in KiB.
func rollup(pid string) (rss, pss int) {
	f, err := os.Open("/proc/" + pid + "/smaps_rollup")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "Rss:":
			rss = v
		case "Pss:":
			pss = v
		}
	}
	return rss, pss
}
