package daemon

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/logfile"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// attachOpts asks for stdout and stderr into the buffers.
func attachOpts(stdout, stderr io.Writer, logs, stream bool) backend.AttachOptions {
	return backend.AttachOptions{
		UseStdout: true, UseStderr: true, Logs: logs, Stream: stream,
		GetStreams: func(bool) (*backend.AttachStreams, error) {
			return &backend.AttachStreams{Stdout: stdout, Stderr: stderr}, nil
		},
	}
}

// writeLog writes json-file log lines for id, as its shim does.
func writeLog(t *testing.T, e *env, id string, lines map[string]string) {
	t.Helper()
	c, _ := e.d.lookup(id)
	w, err := logfile.NewWriter(c.LogPath, logfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{"stdout", "stderr"} {
		if line, ok := lines[stream]; ok {
			if err := w.Write(stream, []byte(line), time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAttachLogsWithoutStreamReplaysAndReturns(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	writeLog(t, e, id, map[string]string{"stdout": "out\n", "stderr": "err\n"})
	var stdout, stderr syncBuffer
	if err := e.d.ContainerAttach(bg, id, attachOpts(&stdout, &stderr, true, false)); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("stdout %q, stderr %q; want the logged lines", stdout.String(), stderr.String())
	}
	if n := e.shim(id).Attaches(); n != 0 {
		t.Errorf("stream=0 attached to the shim %d times", n)
	}
}

func TestAttachToCreatedContainerGetsOutputFromStart(t *testing.T) {
	e := newEnv(t)
	e.launcher.Output = "first line\n"
	id := e.create(t, "web", nil)
	var stdout syncBuffer
	taken, done := streamingAttach(bg, e, id, &stdout)
	<-taken
	if err := e.d.ContainerStart(bg, id, ""); err != nil {
		t.Fatal(err)
	}
	cfg := e.launcher.Starts()[0]
	if !cfg.HoldOutput || !e.shim(id).Released() {
		t.Errorf("hold output %v, released %v: the start must hold the output for the waiting attach", cfg.HoldOutput, e.shim(id).Released())
	}
	e.shim(id).Exit(0)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("attach did not end with the container")
	}
	if stdout.String() != "first line\n" {
		t.Errorf("attach got %q, want the first output", stdout.String())
	}
}

// streamingAttach attaches to id in the background; the returned channel
// is closed once the attach took its streams, by then it waits for a start.
func streamingAttach(ctx context.Context, e *env, id string, stdout io.Writer) (taken <-chan struct{}, done <-chan error) {
	tk, dn := make(chan struct{}), make(chan error, 1)
	opts := attachOpts(stdout, io.Discard, false, true)
	get := opts.GetStreams
	opts.GetStreams = func(m bool) (*backend.AttachStreams, error) {
		defer close(tk)
		return get(m)
	}
	go func() { dn <- e.d.ContainerAttach(ctx, id, opts) }()
	return tk, dn
}

func TestAttachEndsWhenWaitedContainerIsRemoved(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	taken, done := streamingAttach(ctx, e, id, io.Discard)
	<-taken
	if err := e.d.ContainerRemove(bg, id, false, false, false); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil || ctx.Err() != nil {
			t.Errorf("attach ended with %v (ctx %v), want nil at the removal", err, ctx.Err())
		}
	case <-ctx.Done():
		t.Fatal("attach kept waiting for a removed container")
	}
}

func TestAttachPausedIsConflict(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	c, _ := e.d.lookup(id)
	c.Lock()
	_ = c.State.SetPaused()
	c.Unlock()
	err := e.d.ContainerAttach(bg, id, attachOpts(io.Discard, io.Discard, false, true))
	wantClass(t, "attach paused", err, errdefs.IsConflict, "conflict")
}

func TestAttachInvalidDetachKeysIsInvalidArgument(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	opts := attachOpts(io.Discard, io.Discard, false, true)
	opts.DetachKeys = "ctrl-"
	wantClass(t, "attach --detach-keys ctrl-", e.d.ContainerAttach(bg, id, opts), errdefs.IsInvalidArgument, "invalid argument")
}

func TestLogsFilterStreamsAndTail(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	writeLog(t, e, id, map[string]string{"stdout": "out\n", "stderr": "err\n"})
	msgs, tty, err := e.d.ContainerLogs(bg, id, backend.LogsOptions{Stdout: true, Tail: "all"})
	if err != nil || tty {
		t.Fatalf("logs: %v, tty %v", err, tty)
	}
	var got []string
	for m := range msgs {
		got = append(got, m.Stream+":"+string(m.Line))
	}
	if len(got) != 1 || got[0] != "stdout:out\n" {
		t.Errorf("logs --stdout only: %q", got)
	}
	_, _, err = e.d.ContainerLogs(bg, id, backend.LogsOptions{Stdout: true, Tail: "ten"})
	wantClass(t, "logs --tail ten", err, errdefs.IsInvalidArgument, "invalid argument")
}

func TestListShowsRunningUnlessAll(t *testing.T) {
	e := newEnv(t)
	running := e.run(t, "running", nil)
	e.create(t, "created", nil)
	rows, err := e.d.ContainerList(bg, backend.ContainerListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].ID != running || rows[0].State != containertypes.StateRunning {
		t.Errorf("ps: %+v, want the running container only", rows)
	}
	rows, err = e.d.ContainerList(bg, backend.ContainerListOptions{All: true, Filters: backend.Filters{"status": {"created"}}})
	if err != nil || len(rows) != 1 || rows[0].Names[0] != "/created" {
		t.Errorf("ps -a --filter status=created: %+v, %v", rows, err)
	}
	_, err = e.d.ContainerList(bg, backend.ContainerListOptions{Filters: backend.Filters{"status": {"sleeping"}}})
	wantClass(t, "ps --filter status=sleeping", err, errdefs.IsInvalidArgument, "invalid argument")
}
