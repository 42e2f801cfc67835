//go:build linux

// Command compose times Compose on berthd against Debian's dockerd 20.10:
// `up -d` and `down -v` of a five-service stack whose images are local (the
// compose tests' hits app and busybox, loaded into both engines), with the
// compose v5 binary and docker-compose 1.29 on each engine and `berth
// compose` on berthd, a fresh project each round, the clients taking turns
// within a round so that the machine's drift falls on all of them. It
// prints the medians and the targets. Run it as root with
// `go run ./bench/compose -bin bin`; `make bench` does; it is not part of
// `make test`.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil"
)

// stack is the benchmark's project: the tutorial's two services (a store
// with a named volume, a web app publishing a port) and three busybox
// workers that stop at once on SIGTERM (a bare sleep as PID 1 would not,
// and down would time the 10 s stop timeout).
const stack = `services:
  store:
    image: berthbench-hits:latest
    command: ["store"]
    volumes: ["data:/data"]
  web:
    image: berthbench-hits:latest
    command: ["web"]
    environment:
      GREETING: hello
    ports: ["127.0.0.1::8000"]
    depends_on: [store]
  worker:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    depends_on: [web]
  scheduler:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    depends_on: [store]
  monitor:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
volumes:
  data: {}
`

// services is how many containers `up -d` must leave running.
const services = 5

func main() {
	bin := flag.String("bin", "bin", "directory holding berthd, berth, berth-compose and berth-shim")
	rounds := flag.Int("n", 7, "rounds (fresh project each; the median is reported)")
	v5 := flag.String("compose-v5", "", "the compose v5 binary (default: testutil.ComposeV5Binary)")
	flag.Parse()
	if err := run(*bin, *v5, *rounds); err != nil {
		fmt.Fprintf(os.Stderr, "bench/compose: %v\n", err)
		os.Exit(1)
	}
}

// run starts both engines, times every client and prints the report.
func run(bin, v5 string, rounds int) error {
	if err := benchutil.Setup(bin); err != nil {
		return err
	}
	if v5 == "" {
		p, err := testutil.ComposeV5Binary()
		if err != nil {
			return fmt.Errorf("compose v5: %w (give -compose-v5)", err)
		}
		v5 = p
	}
	compose129, err := exec.LookPath("docker-compose")
	if err != nil {
		return fmt.Errorf("docker-compose 1.29 (Debian's) is needed: %w", err)
	}
	work, err := os.MkdirTemp("", "bench-compose-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	config := filepath.Join(work, "docker-config")
	if err := os.MkdirAll(config, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "compose.yaml"), []byte(stack), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "bench/compose: building the hits app image ...")
	imageTar, err := hitsImage(work)
	if err != nil {
		return err
	}

	berth, err := benchutil.StartBerth("bench/compose")
	if err != nil {
		return fmt.Errorf("berth: %w", err)
	}
	defer berth.Close()
	fmt.Fprintln(os.Stderr, "bench/compose: dockerd ...")
	dd, err := benchutil.StartDockerdNoBridge()
	if err != nil || dd == nil {
		return fmt.Errorf("dockerd (Debian's docker.io) is needed: %v", err)
	}
	defer dd.Close()
	docker := &benchutil.Engine{Name: "dockerd", Host: dd.Host, CLI: dd.CLI}
	berth.Name = "berthd"
	for _, e := range []*benchutil.Engine{berth, docker} {
		if _, err := e.CLI("import", "--change", `ENTRYPOINT ["/hits"]`, imageTar, "berthbench-hits:latest"); err != nil {
			return fmt.Errorf("%s: load the hits image: %w", e.Name, err)
		}
	}

	clients := []*client{
		{name: "compose v5", engine: berth, argv: []string{v5}},
		{name: "compose v5", engine: docker, argv: []string{v5}},
		{name: "docker-compose 1.29", engine: berth, argv: []string{compose129}},
		{name: "docker-compose 1.29", engine: docker, argv: []string{compose129}},
		{name: "berth compose", engine: berth, argv: []string{filepath.Join(berth.Berthd.BinDir, "berth"), "-H", berth.Host, "compose"}},
	}
	for _, c := range clients {
		c.dir, c.config = work, config
	}
	// round 0 is a warm-up (page cache, the daemons' first network and
	// volume); the clients take turns, starting one further each round
	for round := 0; round <= rounds; round++ {
		fmt.Fprintf(os.Stderr, "bench/compose: round %d/%d\n", round, rounds)
		for i := range clients {
			c := clients[(i+round)%len(clients)]
			up, down, err := c.cycle(fmt.Sprintf("cb%d-%d-%d", os.Getpid(), round, i))
			if err != nil {
				return err
			}
			if round > 0 {
				c.up, c.down = append(c.up, up), append(c.down, down)
			}
		}
	}
	report(clients, rounds)
	return nil
}

// client is one compose client aimed at one engine, with its timings.
type client struct {
	name        string
	engine      *benchutil.Engine
	argv        []string // the client's command up to its compose arguments
	dir, config string
	up, down    []time.Duration
}

func (c *client) label() string { return c.name + " on " + c.engine.Name }

// compose runs the client with args, DOCKER_HOST aimed at its engine, and
// returns how long it took.
func (c *client) compose(args ...string) (time.Duration, error) {
	cmd := exec.Command(c.argv[0], append(append([]string(nil), c.argv[1:]...), args...)...)
	cmd.Dir = c.dir
	cmd.Env = append(cleanEnv(), "DOCKER_HOST="+c.engine.Host, "DOCKER_CONFIG="+c.config, "COMPOSE_ANSI=never")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %v\n%s", c.label(), strings.Join(args, " "), err, out)
	}
	return took, nil
}

// cycle brings a fresh project up and down, checking in between (untimed)
// that all its services run.
func (c *client) cycle(project string) (up, down time.Duration, err error) {
	if up, err = c.compose("-p", project, "up", "-d"); err != nil {
		return 0, 0, err
	}
	out, err := c.engine.CLI("ps", "-q", "--filter", "label=com.docker.compose.project="+project, "--filter", "status=running")
	if err != nil {
		return 0, 0, err
	}
	if n := len(strings.Fields(out)); n != services {
		return 0, 0, fmt.Errorf("%s: up -d left %d of %d services running", c.label(), n, services)
	}
	if down, err = c.compose("-p", project, "down", "-v"); err != nil {
		return 0, 0, err
	}
	if out, err := c.engine.CLI("ps", "-aq", "--filter", "label=com.docker.compose.project="+project); err != nil || out != "" {
		return 0, 0, fmt.Errorf("%s: down left containers %q (%v)", c.label(), out, err)
	}
	return up, down, nil
}

// cleanEnv is the environment without any engine or client selection.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") && !strings.HasPrefix(kv, "BERTH_HOST=") && !strings.HasPrefix(kv, "COMPOSE_") {
			env = append(env, kv)
		}
	}
	return env
}

// hitsImage builds the compose tests' app static and returns a tar holding
// it as /hits, to import as an image.
func hitsImage(work string) (string, error) {
	binPath := filepath.Join(work, "hits")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binPath, "./integration/testdata/compose/app")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the hits app (run from berth's source folder): %v: %s", err, out)
	}
	tarPath := filepath.Join(work, "hits.tar")
	return tarPath, benchutil.WriteSingleFileTar(tarPath, binPath, "hits")
}

// report prints each client's medians, their ratios and the targets.
func report(clients []*client, rounds int) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%d-service stack, median of %d rounds\tup -d\tdown -v\n", services, rounds)
	for _, c := range clients {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.label(), ms(benchutil.Median(c.up)), ms(benchutil.Median(c.down)))
	}
	tw.Flush()

	v5Berth, v5Docker, v1Berth, v1Docker, berth := clients[0], clients[1], clients[2], clients[3], clients[4]
	fmt.Println("\nratios: the median of the rounds' own ratios")
	for _, r := range []struct {
		what   string
		a, b   *client
		target float64 // the most a/b may be; 0 for none
		upOnly bool    // the target is for up -d only
	}{
		{"compose v5, berthd / dockerd", v5Berth, v5Docker, 1.0 / 3, false},
		{"docker-compose 1.29, berthd / dockerd", v1Berth, v1Docker, 0, false},
		{"berth compose / compose v5, on berthd", berth, v5Berth, 1.10, true},
	} {
		for _, op := range []struct {
			name string
			get  func(*client) []time.Duration
		}{{"up -d", func(c *client) []time.Duration { return c.up }}, {"down -v", func(c *client) []time.Duration { return c.down }}} {
			v := pairedRatio(op.get(r.a), op.get(r.b))
			fmt.Printf("%-8s %-40s %.2f", op.name, r.what+":", v)
			if r.target > 0 && (op.name == "up -d" || !r.upOnly) {
				fmt.Printf("  (target <= %.2f: %s)", r.target, verdict(v <= r.target))
			}
			fmt.Println()
		}
	}
}

// pairedRatio is the median over the rounds of a's time over b's in the
// same round: pairing keeps the ratio meaningful when the machine's speed
// drifts between rounds.
func pairedRatio(a, b []time.Duration) float64 {
	var rs []float64
	for i := range min(len(a), len(b)) {
		rs = append(rs, float64(a[i])/float64(b[i]))
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	return rs[len(rs)/2]
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
