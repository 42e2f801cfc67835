//go:build linux

// Command build measures builds on berth beside a private dockerd (Debian's
// docker.io 20.10) in the same run: two projects, a small one (a few files,
// 3 RUN steps) and a big one (4 COPY steps of 50 MB each plus RUN steps),
// each built cold (no image, no build cache) and again hot (nothing
// changed). dockerd builds with its classic builder
// (DOCKER_BUILDKIT=0 /usr/bin/docker build) and with its BuildKit
// (DOCKER_BUILDKIT=1); berth is driven by the same 20.10 client both ways
// (POST /build, served by berth's BuildKit) and by `berth build` (BuildKit's
// control API). It also reports berthd's resident memory idle before the
// first build and after the builds. Run it as root with
// `go run ./bench/build -bin bin`; it is not part of `make test`.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil"
)

const tag = "bench/build"

// docker20 is Debian's docker.io client, whose DOCKER_BUILDKIT switch picks
// the classic builder or BuildKit.
const docker20 = "/usr/bin/docker"

// project is a build context written once and built by every builder.
type project struct {
	name string
	dir  string
}

// builder is one way of building: a client and an engine.
type builder struct {
	name   string
	engine string // "berth" or "docker"
	// build builds dir as image ref; reset removes the image and the build
	// cache, for a cold build.
	build func(ctx context.Context, dir, ref string) error
	reset func(ctx context.Context, ref string) error
}

// figures are one builder's timings of one project.
type figures struct {
	cold, hot []time.Duration
	err       error
}

func main() {
	bin := flag.String("bin", "bin", "directory holding berthd, berth and berth-shim")
	rounds := flag.Int("n", 3, "cold builds per builder and project (the median is reported)")
	hots := flag.Int("hot", 3, "hot rebuilds after each cold build")
	mb := flag.Int("mb", 50, "megabytes of each of the big project's 4 COPY files")
	withDocker := flag.Bool("docker", true, "also measure dockerd when it is installed")
	flag.Parse()
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}

	work, err := os.MkdirTemp("/tmp", "berth-bench-build-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(work)
	projects, err := writeProjects(work, *mb)
	if err != nil {
		fail(err)
	}

	berth, err := benchutil.StartBerth(tag)
	if err != nil {
		fail(fmt.Errorf("berth: %w", err))
	}
	time.Sleep(2 * time.Second) // let the start-up's garbage go
	idle := rss(berth.Berthd.Pid())
	builders := berthBuilders(berth.Berthd, filepath.Join(work, "config"))
	var dockerd *benchutil.Dockerd
	if *withDocker {
		fmt.Fprintf(os.Stderr, "%s: dockerd ...\n", tag)
		switch dockerd, err = benchutil.StartDockerd(); {
		case err != nil:
			fmt.Fprintf(os.Stderr, "%s: dockerd: %v\n", tag, err)
		case dockerd == nil:
			fmt.Fprintf(os.Stderr, "%s: dockerd is not installed; skipping the docker comparison\n", tag)
		default:
			builders = append(dockerBuilders(dockerd), builders...)
		}
	}
	results := measure(projects, builders, *rounds, *hots)
	after := rss(berth.Berthd.Pid())
	var dockerRSS int64
	if dockerd != nil {
		dockerRSS = rss(dockerd.Pid())
		dockerd.Close()
	}
	berth.Close()
	report(projects, builders, results, idle, after, dockerRSS)
}

// writeProjects writes the small and the big build contexts under dir.
func writeProjects(dir string, mb int) ([]project, error) {
	small := filepath.Join(dir, "small")
	files := map[string]string{
		"Dockerfile": `FROM busybox
WORKDIR /app
COPY . .
RUN cat main.sh config.ini > /combined
RUN sh main.sh > /out.txt
RUN wc -c /combined /out.txt > /sizes
`,
		"main.sh":    "#!/bin/sh\nfor i in 1 2 3; do echo \"line $i\"; done\n",
		"config.ini": "[app]\nname = bench\nlevel = 3\n",
		"README":     "A small project for bench/build.\n",
	}
	if err := writeFiles(small, files); err != nil {
		return nil, err
	}
	big := filepath.Join(dir, "big")
	var df strings.Builder
	df.WriteString("FROM busybox\n")
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&df, "COPY part%d.bin /data/\n", i)
	}
	df.WriteString("RUN du -sk /data > /du\nRUN ls -l /data > /list\nRUN wc -c /data/part1.bin > /size1\n")
	if err := writeFiles(big, map[string]string{"Dockerfile": df.String()}); err != nil {
		return nil, err
	}
	// incompressible, so that no engine gains by compressing
	r := rand.New(rand.NewChaCha8([32]byte{'b', 'e', 'r', 't', 'h'}))
	buf := make([]byte, 1<<20)
	for i := 1; i <= 4; i++ {
		f, err := os.Create(filepath.Join(big, fmt.Sprintf("part%d.bin", i)))
		if err != nil {
			return nil, err
		}
		for range mb {
			for j := 0; j < len(buf); j += 8 {
				v := r.Uint64()
				for k := range 8 {
					buf[j+k] = byte(v >> (8 * k))
				}
			}
			if _, err := f.Write(buf); err != nil {
				f.Close()
				return nil, err
			}
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
	}
	return []project{
		{name: "small (3 files, 3 RUN)", dir: small},
		{name: fmt.Sprintf("big (4 COPY x %d MB, 3 RUN)", mb), dir: big},
	}, nil
}

func writeFiles(dir string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// dockerBuilders build on the private dockerd with the 20.10 client.
func dockerBuilders(d *benchutil.Dockerd) []*builder {
	host := "unix://" + filepath.Join(d.Dir, "docker.sock")
	cfg := d.Dir
	return []*builder{
		{name: "docker 20.10 classic", engine: "docker", build: docker20Build(host, cfg, "0"), reset: docker20Reset(host, cfg)},
		{name: "docker 20.10 BuildKit", engine: "docker", build: docker20Build(host, cfg, "1"), reset: docker20Reset(host, cfg)},
	}
}

// berthBuilders build on berthd: the 20.10 client both ways (POST /build)
// and berth build.
func berthBuilders(d *testutil.Daemon, cfg string) []*builder {
	berthCLI := filepath.Join(d.BinDir, "berth")
	return []*builder{
		{name: "berth, 20.10 client, classic", engine: "berth", build: docker20Build(d.Host, cfg, "0"), reset: docker20Reset(d.Host, cfg)},
		{name: "berth, 20.10 client, BuildKit", engine: "berth", build: docker20Build(d.Host, cfg, "1"), reset: docker20Reset(d.Host, cfg)},
		{name: "berth build", engine: "berth", reset: docker20Reset(d.Host, cfg),
			build: func(ctx context.Context, dir, ref string) error {
				out, err := command(ctx, nil, berthCLI, "-H", d.Host, "build", "-q", "-t", ref, dir)
				return builtID(out, err)
			}},
	}
}

func docker20Build(host, cfg, buildkit string) func(ctx context.Context, dir, ref string) error {
	env := []string{"DOCKER_BUILDKIT=" + buildkit, "DOCKER_CONFIG=" + cfg}
	return func(ctx context.Context, dir, ref string) error {
		out, err := command(ctx, env, docker20, "-H", host, "build", "-q", "-t", ref, dir)
		return builtID(out, err)
	}
}

// docker20Reset removes the image and every build cache: the classic
// builder's is the image's parents, BuildKit's goes with builder prune.
func docker20Reset(host, cfg string) func(ctx context.Context, ref string) error {
	env := []string{"DOCKER_CONFIG=" + cfg}
	return func(ctx context.Context, ref string) error {
		_, _ = command(ctx, env, docker20, "-H", host, "rmi", "-f", ref)
		_, err := command(ctx, env, docker20, "-H", host, "builder", "prune", "-af")
		return err
	}
}

// builtID checks that a quiet build printed an image ID.
func builtID(out string, err error) error {
	if err != nil {
		return err
	}
	if !strings.Contains(out, "sha256:") {
		return fmt.Errorf("the build printed no image ID: %q", out)
	}
	return nil
}

// measure builds every project with every builder: per round, a cold build
// after a reset then hot rebuilds. Builders take turns within a round, so
// that the load of a shared machine weighs on all alike. A builder that
// fails is reported and left out of the rest of the project.
func measure(projects []project, builders []*builder, rounds, hots int) map[string]*figures {
	results := map[string]*figures{}
	for _, p := range projects {
		for _, b := range builders {
			results[key(p, b)] = &figures{}
		}
		for round := range rounds {
			for _, b := range builders {
				f := results[key(p, b)]
				if f.err != nil {
					continue
				}
				fmt.Fprintf(os.Stderr, "%s: %s, %s, round %d\n", tag, p.name, b.name, round+1)
				ref := "bench-build-" + strings.Fields(p.name)[0]
				f.err = func() error {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
					defer cancel()
					if err := b.reset(ctx, ref); err != nil {
						return fmt.Errorf("reset: %w", err)
					}
					t0 := time.Now()
					if err := b.build(ctx, p.dir, ref); err != nil {
						return fmt.Errorf("cold build: %w", err)
					}
					f.cold = append(f.cold, time.Since(t0))
					for range hots {
						t0 := time.Now()
						if err := b.build(ctx, p.dir, ref); err != nil {
							return fmt.Errorf("hot build: %w", err)
						}
						f.hot = append(f.hot, time.Since(t0))
					}
					return nil
				}()
				if f.err != nil {
					fmt.Fprintf(os.Stderr, "%s: %s, %s: %v\n", tag, p.name, b.name, f.err)
				}
			}
		}
		for _, b := range builders {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			_ = b.reset(ctx, "bench-build-"+strings.Fields(p.name)[0])
			cancel()
		}
	}
	return results
}

func key(p project, b *builder) string { return p.name + "\x00" + b.name }

func report(projects []project, builders []*builder, results map[string]*figures, idle, after, dockerRSS int64) {
	for _, p := range projects {
		fmt.Printf("\n%s\n", p.name)
		fmt.Printf("  %-32s %10s %10s %14s %14s\n", "builder", "cold", "hot", "cold vs BK", "hot vs BK")
		ref := results[p.name+"\x00docker 20.10 BuildKit"]
		for _, b := range builders {
			f := results[key(p, b)]
			if f.err != nil && len(f.cold) == 0 {
				fmt.Printf("  %-32s %s\n", b.name, firstLine(f.err))
				continue
			}
			cold, hot := benchutil.Median(f.cold), benchutil.Median(f.hot)
			coldRatio, hotRatio := "", ""
			if ref != nil && len(ref.cold) > 0 && len(ref.hot) > 0 {
				coldRatio = ratio(cold, benchutil.Median(ref.cold))
				hotRatio = ratio(hot, benchutil.Median(ref.hot))
			}
			fmt.Printf("  %-32s %10s %10s %14s %14s\n", b.name, secs(cold), secs(hot), coldRatio, hotRatio)
		}
	}
	fmt.Printf("\nberthd RSS: %s idle before the first build, %s after the builds", mib(idle), mib(after))
	if dockerRSS > 0 {
		fmt.Printf(" (dockerd after its builds: %s)", mib(dockerRSS))
	}
	fmt.Println()

	fmt.Printf("targets (berth build): ")
	var verdicts []string
	for _, p := range projects {
		b, d := results[p.name+"\x00berth build"], results[p.name+"\x00docker 20.10 BuildKit"]
		if b == nil || len(b.cold) == 0 || len(b.hot) == 0 {
			verdicts = append(verdicts, p.name+": no figures")
			continue
		}
		bc, bh := benchutil.Median(b.cold), benchutil.Median(b.hot)
		if d != nil && len(d.cold) > 0 && len(d.hot) > 0 {
			dc, dh := benchutil.Median(d.cold), benchutil.Median(d.hot)
			verdicts = append(verdicts, fmt.Sprintf("%s cold <= dockerd BuildKit: %s (%s vs %s), hot: %s (%s vs %s)",
				strings.Fields(p.name)[0], verdict(bc <= dc), secs(bc), secs(dc), verdict(bh <= dh), secs(bh), secs(dh)))
		}
		if strings.HasPrefix(p.name, "big") {
			verdicts = append(verdicts, fmt.Sprintf("big hot < 0.3s: %s (%s)", verdict(bh < 300*time.Millisecond), secs(bh)))
		}
	}
	verdicts = append(verdicts, fmt.Sprintf("idle RSS < 20MB: %s (%s)", verdict(idle > 0 && idle < 20<<20), mib(idle)))
	fmt.Println(strings.Join(verdicts, "; "))
}

// command runs name with env added and returns its trimmed stdout; the
// error carries the end of its stderr.
func command(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "..." + msg[len(msg)-2000:]
		}
		return "", fmt.Errorf("%s %s: %v: %s", filepath.Base(name), strings.Join(args, " "), err, msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// rss is a process's resident set in bytes (0 when unknown).
func rss(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return "failed: " + s
}

func ratio(a, b time.Duration) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func mib(n int64) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprintf("%.1fMB", float64(n)/(1<<20))
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
