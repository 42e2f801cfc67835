//go:build linux

// Command registry measures pulls and pushes of an image of about 200 MB
// in 4 layers of random data against a local reference registry
// (docker-registry on 127.0.0.1): the median of several runs with berth,
// and with dockerd when it is installed. It is not part of `make test`:
//
//	go build -o bin/ ./cmd/... && go run ./bench/registry -bin bin
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-project/berth/bench/internal/benchutil"
	"github.com/berth-project/berth/internal/testutil"
)

func main() {
	bin := flag.String("bin", "bin", "directory holding berthd, berth and berth-shim")
	runs := flag.Int("n", 5, "runs per measure (the median is reported)")
	layers := flag.Int("layers", 4, "layers in the image")
	layerMB := flag.Int("layer-mb", 50, "megabytes of random data per layer")
	verbose = flag.Bool("v", false, "show the CLI's output")
	withDocker := flag.Bool("docker", true, "measure dockerd too, when it is installed")
	flag.Parse()
	if err := benchutil.Setup(*bin); err != nil {
		fail(err)
	}
	if _, err := os.Stat(testutil.RegistryBinary); err != nil {
		fail(fmt.Errorf("%s is needed: apt-get install docker-registry", testutil.RegistryBinary))
	}

	src, err := testutil.NewRegistry()
	if err != nil {
		fail(err)
	}
	defer src.Close()
	ref := src.Host + "/bench/random:v1"
	fmt.Printf("image: %d layers of %d MB random data, pushed to %s\n", *layers, *layerMB, ref)
	if err := pushRandom(ref, *layers, int64(*layerMB)<<20); err != nil {
		fail(err)
	}

	berth, err := benchBerth(src, ref, *runs)
	if err != nil {
		fail(fmt.Errorf("berth: %w", err))
	}
	fmt.Printf("\n%-8s %12s %12s\n", "engine", "pull", "push")
	fmt.Printf("%-8s %12s %12s   (berthd CPU per pull: %s)\n", "berth", berth.pull.Round(time.Millisecond), berth.push.Round(time.Millisecond), berth.pullCPU.Round(time.Millisecond))
	if !*withDocker {
		return
	}
	if _, err := exec.LookPath("dockerd"); err != nil {
		fmt.Println("docker   (dockerd is not installed: not measured)")
		return
	}
	docker, err := benchDocker(src, ref, *runs)
	if err != nil {
		fail(fmt.Errorf("docker: %w", err))
	}
	fmt.Printf("%-8s %12s %12s\n", "docker", docker.pull.Round(time.Millisecond), docker.push.Round(time.Millisecond))
	fmt.Printf("ratios: pull %.2fx faster, push %.2fx faster\n", docker.pull.Seconds()/berth.pull.Seconds(), docker.push.Seconds()/berth.push.Seconds())
}

type result struct {
	pull, push time.Duration
	pullCPU    time.Duration // the engine daemon's CPU time during a pull (median), when known
}

var verbose *bool

// benchBerth times `berth pull` into an empty store and `berth push` to an
// empty registry, runs times each.
func benchBerth(src *testutil.Registry, ref string, runs int) (result, error) {
	d, err := testutil.NewDaemon()
	if err != nil {
		return result{}, err
	}
	defer d.Close()
	if err := d.Start(); err != nil {
		return result{}, err
	}
	berth := func(args ...string) error {
		cmd := d.BerthCmd(args...)
		cmd.Env = append(cmd.Env, "BERTH_CONFIG="+d.Root)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("berth %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if *verbose {
			fmt.Printf("$ berth %s\n%s", strings.Join(args, " "), out)
		}
		return nil
	}
	return measure(runs, ref, berth, d.Pid())
}

// benchDocker does the same with a private dockerd.
func benchDocker(src *testutil.Registry, ref string, runs int) (result, error) {
	d, err := benchutil.StartDockerd()
	if err != nil {
		return result{}, err
	}
	defer d.Close()
	return measure(runs, ref, func(args ...string) error {
		_, err := d.CLI(args...)
		return err
	}, 0)
}

// measure runs the pull and push measures with an engine's CLI; with the
// daemon's pid it also takes the daemon's CPU time during each pull.
func measure(runs int, ref string, cli func(args ...string) error, pid int) (result, error) {
	var pulls, pushes, cpus []time.Duration
	for i := 0; i < runs; i++ {
		_ = cli("rmi", "-f", ref)
		_ = cli("image", "prune", "-a", "-f")
		cpu0 := cpuTime(pid)
		start := time.Now()
		if err := cli("pull", ref); err != nil {
			return result{}, err
		}
		pulls = append(pulls, time.Since(start))
		cpus = append(cpus, cpuTime(pid)-cpu0)

		dst, err := testutil.NewRegistry()
		if err != nil {
			return result{}, err
		}
		target := dst.Host + "/bench/copy:v1"
		if err := cli("tag", ref, target); err != nil {
			dst.Close()
			return result{}, err
		}
		start = time.Now()
		err = cli("push", target)
		pushes = append(pushes, time.Since(start))
		_ = cli("rmi", target)
		dst.Close()
		if err != nil {
			return result{}, err
		}
		fmt.Printf("run %d: pull %s, push %s\n", i+1, pulls[i].Round(time.Millisecond), pushes[i].Round(time.Millisecond))
	}
	return result{pull: median(pulls), push: median(pushes), pullCPU: median(cpus)}, nil
}

// cpuTime is the user plus system CPU time of process pid (0 when unknown),
// from /proc/<pid>/stat, in clock ticks of 10ms.
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// the fields after the command name, which may hold spaces
	_, rest, ok := strings.Cut(string(data), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// pushRandom writes an image of random layers straight to the registry.
func pushRandom(ref string, layers int, size int64) error {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.DockerManifestSchema2), types.DockerConfigJSON)
	for i := 0; i < layers; i++ {
		l, err := random.Layer(size, types.DockerLayer)
		if err != nil {
			return err
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	return remote.Write(r, img)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/registry:", err)
	os.Exit(1)
}
