package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// Streams are long-lived clients held open during a load: events
// subscribers (container create events) and `logs -f` followers, each on
// a connection of its own.
type Streams struct {
	stop    context.CancelFunc
	once    sync.Once
	wg      sync.WaitGroup
	clients []*client.Client
	creates []atomic.Int64 // create events of <prefix>* containers each subscriber saw
	lines   []atomic.Int64 // lines each follower read
}

// StartStreams opens subs events subscribers, counting the create events
// of containers whose name starts with prefix, and fols followers of the
// targets' logs (from now on), each with a client from newClient.
func StartStreams(ctx context.Context, newClient func() (*client.Client, error), subs, fols int, targets []string, prefix string) (*Streams, error) {
	ctx, stop := context.WithCancel(ctx)
	s := &Streams{stop: stop, creates: make([]atomic.Int64, subs), lines: make([]atomic.Int64, fols)}
	for i := range subs + fols {
		c, err := newClient()
		if err != nil {
			s.Stop()
			return nil, err
		}
		s.clients = append(s.clients, c)
		if i < subs {
			s.subscribe(ctx, c, &s.creates[i], prefix)
			continue
		}
		target := targets[(i-subs)%len(targets)]
		rc, err := c.ContainerLogs(ctx, target, client.ContainerLogsOptions{ShowStdout: true, Follow: true, Tail: "0"})
		if err != nil {
			s.Stop()
			return nil, fmt.Errorf("logs -f %s: %w", target, err)
		}
		s.follow(rc, &s.lines[i-subs])
	}
	return s, nil
}

func (s *Streams) subscribe(ctx context.Context, c *client.Client, seen *atomic.Int64, prefix string) {
	res := c.Events(ctx, client.EventsListOptions{Filters: make(client.Filters).Add("type", "container").Add("event", "create")})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case m := <-res.Messages:
				if strings.HasPrefix(m.Actor.Attributes["name"], prefix) {
					seen.Add(1)
				}
			case <-res.Err:
				return
			}
		}
	}()
}

func (s *Streams) follow(rc io.ReadCloser, lines *atomic.Int64) {
	s.wg.Add(2)
	pr, pw := io.Pipe()
	go func() {
		defer s.wg.Done()
		_, err := stdcopy.StdCopy(pw, io.Discard, rc)
		pw.CloseWithError(err)
	}()
	go func() {
		defer s.wg.Done()
		defer rc.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines.Add(1)
		}
		pr.Close()
	}()
}

// Creates is how many create events each subscriber has seen.
func (s *Streams) Creates() []int64 { return load(s.creates) }

// Lines is how many lines each follower has read.
func (s *Streams) Lines() []int64 { return load(s.lines) }

func load(counts []atomic.Int64) []int64 {
	out := make([]int64, len(counts))
	for i := range counts {
		out[i] = counts[i].Load()
	}
	return out
}

// Stop ends every stream, waits for their readers and closes the
// clients. It may be called more than once.
func (s *Streams) Stop() {
	s.once.Do(func() {
		s.stop()
		s.wg.Wait()
		for _, c := range s.clients {
			c.Close()
		}
	})
}
