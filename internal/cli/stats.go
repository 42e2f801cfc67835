package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/containerd/errdefs"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli/format"
)

// statsOptions are docker stats's flags.
type statsOptions struct {
	all, noStream, noTrunc bool
	format                 string
}

func newStatsCommand(c *Cli) *cobra.Command {
	var o statsOptions
	cmd := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStats(cmd.Context(), c, &o, args)
		},
	}
	flags := cmd.Flags()
	flags.BoolVarP(&o.all, "all", "a", false, "Show all containers (default shows just running)")
	flags.BoolVar(&o.noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	flags.BoolVar(&o.noTrunc, "no-trunc", false, "Do not truncate output")
	flags.StringVar(&o.format, "format", "", "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.")
	return cmd
}

// statsTarget is one container shown: as named, and its latest figures.
type statsTarget struct {
	name  string
	mu    sync.Mutex
	stats format.Stats
	err   error
}

func (t *statsTarget) set(s format.Stats, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats, t.err = s, err
}

func (t *statsTarget) get() (format.Stats, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats, t.err
}

// runStats shows the named containers, or the running (-a: all) ones. With
// --no-stream it prints one table; otherwise it redraws the screen every
// second from one stats stream per container, as docker does.
func runStats(ctx context.Context, c *Cli, o *statsOptions, names []string) error {
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	f := format.StatsFormat(o.format)
	listed := len(names) == 0
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var mu sync.Mutex
	targets := map[string]*statsTarget{}
	var order []*statsTarget
	watch := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := targets[name]; ok {
			return
		}
		t := &statsTarget{name: name, stats: format.Stats{Container: name}}
		targets[name] = t
		order = append(order, t)
		if !o.noStream {
			go streamStats(ctx, api, t)
		}
	}
	list := func() error {
		res, err := api.ContainerList(ctx, client.ContainerListOptions{All: o.all})
		if err != nil {
			return err
		}
		for _, s := range res.Items {
			watch(s.ID)
		}
		return nil
	}
	if listed {
		if err := list(); err != nil {
			return err
		}
	} else {
		for _, n := range names {
			watch(n)
		}
	}

	if o.noStream {
		var wg sync.WaitGroup
		for _, t := range order {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.set(oneStats(ctx, api, t.name))
			}()
		}
		wg.Wait()
		var errs []error
		var rows []any
		for _, t := range order {
			s, err := t.get()
			if err != nil && listed && errdefs.IsNotFound(err) {
				continue // removed since it was listed
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			rows = append(rows, format.NewStatsRow(s, !o.noTrunc))
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		return format.Write(c.Out, f, rows, format.StatsHeader())
	}

	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		if listed {
			_ = list()
		}
		mu.Lock()
		var rows []any
		for _, t := range order {
			s, err := t.get()
			if err != nil && !listed {
				mu.Unlock()
				return err
			}
			if err == nil {
				rows = append(rows, format.NewStatsRow(s, !o.noTrunc))
			}
		}
		mu.Unlock()
		if f.IsTable() {
			fmt.Fprint(c.Out, "\033[2J\033[H")
		}
		if err := format.Write(c.Out, f, rows, format.StatsHeader()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// oneStats reads one sample (with the daemon's previous one for the CPU %).
func oneStats(ctx context.Context, api *client.Client, name string) (format.Stats, error) {
	res, err := api.ContainerStats(ctx, name, client.ContainerStatsOptions{IncludePreviousSample: true})
	if err != nil {
		return format.Stats{}, err
	}
	defer res.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return format.Stats{}, err
	}
	return format.NewStats(name, &s), nil
}

// streamStats follows t's stats stream until ctx ends, keeping the latest
// figures in t.
func streamStats(ctx context.Context, api *client.Client, t *statsTarget) {
	res, err := api.ContainerStats(ctx, t.name, client.ContainerStatsOptions{Stream: true})
	if err != nil {
		t.set(format.Stats{Container: t.name, Invalid: true}, err)
		return
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var s container.StatsResponse
		if err := dec.Decode(&s); err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				t.set(format.Stats{Container: t.name, Invalid: true}, nil)
			}
			return
		}
		t.set(format.NewStats(t.name, &s), nil)
	}
}
