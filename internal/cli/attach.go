package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/moby/term"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/detachkeys"
)

type attachOptions struct {
	noStdin    bool
	sigProxy   bool
	detachKeys string
}

func newAttachCommand(c *Cli) *cobra.Command {
	var opts attachOptions
	cmd := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttach(cmd.Context(), c, args[0], &opts)
		},
	}
	flags := cmd.Flags()
	flags.BoolVar(&opts.noStdin, "no-stdin", false, "Do not attach STDIN")
	flags.BoolVar(&opts.sigProxy, "sig-proxy", true, "Proxy all received signals to the process")
	flags.StringVar(&opts.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func runAttach(ctx context.Context, c *Cli, name string, opts *attachOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	api, err := c.Client(ctx)
	if err != nil {
		return err
	}
	// Ask for the exit status before attaching, so an exit right after the
	// stream ends is not missed.
	waitCtx, cancelWait := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWait()
	results := waitExit(waitCtx, api, name, "")

	ctr, err := inspectRunning(ctx, api, name)
	if err != nil {
		return err
	}
	if err := checkTTY(c.In, !opts.noStdin, ctr.Config.Tty); err != nil {
		return err
	}
	aopts := client.ContainerAttachOptions{
		Stream:     true,
		Stdin:      !opts.noStdin && ctr.Config.OpenStdin,
		Stdout:     true,
		Stderr:     true,
		DetachKeys: opts.detachKeys,
	}
	if opts.sigProxy && !ctr.Config.Tty {
		defer forwardSignals(context.WithoutCancel(ctx), api, ctr.ID)()
	}
	resp, err := api.ContainerAttach(ctx, name, aopts)
	if err != nil {
		return err
	}
	defer resp.Close()
	// The container may have stopped between the inspect and the attach.
	if _, err := inspectRunning(ctx, api, name); err != nil {
		return err
	}
	if ctr.Config.Tty && isTerminal(c.Out) {
		// A resize by one and back makes the shell redraw its prompt on
		// every attach after the first.
		h, w := ttySize(c.Out)
		_ = resizeTTY(ctx, api, ctr.ID, h+1, w+1)
		monitorTTYSize(ctx, c, api, ctr.ID)
	}
	s := &streamer{
		out:        c.Out,
		errOut:     c.Err,
		resp:       resp.HijackedResponse,
		tty:        ctr.Config.Tty,
		detachKeys: opts.detachKeys,
	}
	if aopts.Stdin {
		s.in = c.In
	}
	if err := s.stream(ctx); err != nil && !errors.Is(err, context.Canceled) {
		// docker prints "read escape sequence" after a Ctrl-P Ctrl-Q here.
		return err
	}
	if s.detached() {
		return nil
	}
	res := <-results
	switch {
	case res.err != nil:
		return res.err
	case res.code != 0:
		return StatusError{StatusCode: res.code}
	}
	return nil
}

// inspectRunning inspects a container that must be running to be attached.
func inspectRunning(ctx context.Context, api *client.Client, name string) (container.InspectResponse, error) {
	res, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return container.InspectResponse{}, err
	}
	c := res.Container
	if c.Config == nil {
		c.Config = &container.Config{}
	}
	if c.HostConfig == nil {
		c.HostConfig = &container.HostConfig{}
	}
	switch {
	case c.State == nil || !c.State.Running:
		return c, errors.New("You cannot attach to a stopped container, start it first")
	case c.State.Paused:
		return c, errors.New("You cannot attach to a paused container, unpause it first")
	case c.State.Restarting:
		return c, errors.New("You cannot attach to a restarting container, wait until it is running")
	}
	return c, nil
}

// exitResult is a container's exit code, or the error that prevented
// learning it.
type exitResult struct {
	code int
	err  error
}

// waitExit asks the daemon for the container's exit under cond. The request
// is registered before waitExit returns, so an exit that follows is not
// missed; the channel yields one result, or closes when ctx ends first.
func waitExit(ctx context.Context, api *client.Client, id string, cond container.WaitCondition) <-chan exitResult {
	wait := api.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: cond})
	out := make(chan exitResult, 1)
	go func() {
		defer close(out)
		select {
		case <-ctx.Done():
		case res := <-wait.Result:
			if res.Error != nil {
				out <- exitResult{code: 125, err: errors.New(res.Error.Message)}
				return
			}
			out <- exitResult{code: int(res.StatusCode)}
		case err := <-wait.Error:
			if !errors.Is(err, context.Canceled) {
				out <- exitResult{code: 125, err: err}
			}
		}
	}()
	return out
}

// streamer copies the local streams to and from a hijacked attach connection.
type streamer struct {
	in          io.Reader // nil when stdin is not attached
	out, errOut io.Writer // nil when not attached
	resp        client.HijackedResponse
	tty         bool
	detachKeys  string

	watcher *keyWatcher // spots the detach keys in a non-TTY stdin
}

// stream runs until the output ends, the user types the detach keys (a
// term.EscapeError) or ctx ends. With a TTY the local terminal is raw for the
// duration and restored on every path.
func (s *streamer) stream(ctx context.Context) error {
	restore := func() {}
	in := s.in
	if in != nil && s.tty {
		var err error
		if restore, err = setRawInput(in); err != nil {
			return fmt.Errorf("unable to set IO streams as raw terminal: %s", err)
		}
		in = term.NewEscapeProxy(in, detachKeyBytes(s.detachKeys))
	} else if in != nil {
		// Without a TTY the daemon alone acts on the detach keys, by ending
		// the stream; berth notes that they went by to tell a detach from
		// the container closing its output.
		s.watcher = &keyWatcher{r: in, keys: detachKeyBytes(s.detachKeys)}
		in = s.watcher
	}
	defer restore()

	var outputDone chan error
	if s.out != nil || s.errOut != nil {
		outputDone = make(chan error, 1)
		go func() {
			var err error
			if s.tty {
				_, err = io.Copy(orDiscard(s.out), s.resp.Reader)
				restore()
			} else {
				_, err = stdcopy.StdCopy(orDiscard(s.out), orDiscard(s.errOut), s.resp.Reader)
			}
			outputDone <- err
		}()
	}

	inputDone := make(chan struct{})
	detached := make(chan error, 1)
	go func() {
		if in != nil {
			_, err := io.Copy(s.resp.Conn, in)
			restore()
			var esc term.EscapeError
			if errors.As(err, &esc) {
				detached <- err
				return
			}
		}
		_ = s.resp.CloseWrite()
		close(inputDone)
	}()

	select {
	case err := <-outputDone:
		return err
	case <-inputDone:
		if outputDone == nil {
			return nil
		}
		select {
		case err := <-outputDone:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	case err := <-detached:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// detached reports whether the stream ended because the daemon detached it
// after seeing the detach keys in a non-TTY stdin.
func (s *streamer) detached() bool {
	return s.watcher != nil && s.watcher.seen.Load()
}

// detachKeyBytes parses --detach-keys, falling back to Ctrl-P Ctrl-Q as
// docker does when the value is invalid.
func detachKeyBytes(keys string) []byte {
	if keys != "" {
		if k, err := term.ToBytes(keys); err == nil && len(k) > 0 {
			return k
		}
	}
	return detachkeys.Default
}

// keyWatcher passes input through unchanged and records whether the key
// sequence went by.
type keyWatcher struct {
	r       io.Reader
	keys    []byte
	matched int
	seen    atomic.Bool
}

func (k *keyWatcher) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	for _, b := range p[:n] {
		switch {
		case b == k.keys[k.matched]:
			k.matched++
		case b == k.keys[0]:
			k.matched = 1
		default:
			k.matched = 0
		}
		if k.matched == len(k.keys) {
			k.seen.Store(true)
			k.matched = 0
		}
	}
	return n, err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// isEscape reports whether err is the user's detach key sequence.
func isEscape(err error) bool {
	var esc term.EscapeError
	return errors.As(err, &esc)
}
