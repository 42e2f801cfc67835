// Package loadgen drives an engine's API with the load the load tests and
// bench/load share: bursts of `run --rm`, many containers, and a stream of
// mixed requests. It reports failures as errors, never through testing.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/moby/moby/api/pkg/stdcopy"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Image is the image every container runs.
const Image = "busybox"

// RunRm is `docker run --rm [--network network] busybox echo <word>` as
// the docker CLI does it through the API: create with AutoRemove, attach,
// start, read the output to its end, and wait for the removal. It returns
// the output. network "" is the engine's default.
func RunRm(ctx context.Context, c *client.Client, network, word string) (string, error) {
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &containertypes.Config{Image: Image, Cmd: []string{"echo", word}},
		HostConfig: &containertypes.HostConfig{AutoRemove: true, NetworkMode: containertypes.NetworkMode(network)},
	})
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	att, err := c.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return "", fmt.Errorf("attach: %w", err)
	}
	defer att.Close()
	wait := c.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: containertypes.WaitConditionRemoved})
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return "", fmt.Errorf("start: %w", err)
	}
	var out, errOut bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errOut, att.Reader); err != nil {
		return "", fmt.Errorf("read output: %w", err)
	}
	select {
	case res := <-wait.Result:
		if res.StatusCode != 0 {
			return "", fmt.Errorf("exit %d, stderr %q", res.StatusCode, errOut.String())
		}
	case err := <-wait.Error:
		return "", fmt.Errorf("wait: %w", err)
	}
	return strings.TrimSpace(out.String()), nil
}

// Burst runs n RunRm at once, each echoing "burst-<i>", and returns each
// one's error (nil when it printed its word and was removed).
func Burst(ctx context.Context, c *client.Client, network string, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			word := fmt.Sprintf("burst-%d", i)
			out, err := RunRm(ctx, c, network, word)
			if err == nil && out != word {
				err = fmt.Errorf("output %q, want %q", out, word)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errs
}

// Parallel calls f(i) for i in [0, n) from workers goroutines and joins
// the errors.
func Parallel(n, workers int, f func(i int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// CreateMany creates n stopped containers named <prefix>-<i>, without
// network.
func CreateMany(ctx context.Context, c *client.Client, prefix string, n, workers int) error {
	return Parallel(n, workers, func(i int) error {
		_, err := create(ctx, c, fmt.Sprintf("%s-%d", prefix, i))
		return err
	})
}

func create(ctx context.Context, c *client.Client, name string) (client.ContainerCreateResult, error) {
	res, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       name,
		Config:     &containertypes.Config{Image: Image, Cmd: []string{"true"}},
		HostConfig: &containertypes.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		return res, fmt.Errorf("create %s: %w", name, err)
	}
	return res, nil
}

// RemoveAll force-removes every container.
func RemoveAll(ctx context.Context, c *client.Client, workers int) error {
	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return err
	}
	return Parallel(len(list.Items), workers, func(i int) error {
		id := list.Items[i].ID
		if _, err := c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			return fmt.Errorf("rm -f %s: %w", id, err)
		}
		return nil
	})
}

// Mix is a stream of mixed API requests against running containers that
// print lines: 40% inspect, 20% list, 20% logs --tail 5, 20% create and rm
// of a container named <Prefix>-<i>.
type Mix struct {
	Requests int
	Workers  int
	Targets  []string // running containers that print lines containing "line-"
	Prefix   string
}

// Run sends the requests and returns how many containers it created, and
// every failure (a request refused, or answered otherwise than it should).
func (m Mix) Run(ctx context.Context, c *client.Client) (creates int64, err error) {
	var created atomic.Int64
	err = Parallel(m.Requests, m.Workers, func(i int) error {
		target := m.Targets[rand.IntN(len(m.Targets))]
		switch i % 10 {
		case 0, 1, 2, 3:
			res, err := c.ContainerInspect(ctx, target, client.ContainerInspectOptions{})
			if err != nil {
				return fmt.Errorf("inspect %s: %w", target, err)
			}
			if !res.Container.State.Running {
				return fmt.Errorf("inspect %s: not running", target)
			}
		case 4, 5:
			res, err := c.ContainerList(ctx, client.ContainerListOptions{All: true})
			if err != nil {
				return fmt.Errorf("list: %w", err)
			}
			if len(res.Items) < len(m.Targets) {
				return fmt.Errorf("list: %d containers, want at least %d", len(res.Items), len(m.Targets))
			}
		case 6, 7:
			rc, err := c.ContainerLogs(ctx, target, client.ContainerLogsOptions{ShowStdout: true, Tail: "5"})
			if err != nil {
				return fmt.Errorf("logs %s: %w", target, err)
			}
			var out bytes.Buffer
			_, err = stdcopy.StdCopy(&out, io.Discard, rc)
			rc.Close()
			if err != nil || !strings.Contains(out.String(), "line-") {
				return fmt.Errorf("logs %s: %q, %v", target, out.String(), err)
			}
		default:
			res, err := create(ctx, c, fmt.Sprintf("%s-%d", m.Prefix, i))
			if err != nil {
				return err
			}
			created.Add(1)
			if _, err := c.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
				return fmt.Errorf("rm %s: %w", res.ID, err)
			}
		}
		return nil
	})
	return created.Load(), err
}

// TalkerCmd is the command of a container Mix reads: it prints a line
// every 200ms.
var TalkerCmd = []string{"sh", "-c", "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.2; done"}
