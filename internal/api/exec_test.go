package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// fakeExecs are the fake's exec sessions. Their commands are played like
// the containers': "echo ARGS", "fail N" (stderr, exit N), "cat" (stdin to
// stdout).
type fakeExecs struct {
	byID map[string]*fakeExec
}

type fakeExec struct {
	id, containerID string
	req             container.ExecCreateRequest
	exitCode        *int
	height, width   uint
}

func (f *fakeBackend) ContainerExecCreate(ctx context.Context, name string, req *container.ExecCreateRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.containerLocked(name)
	if err != nil {
		return "", err
	}
	if !c.running {
		return "", errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.id))
	}
	if f.execs.byID == nil {
		f.execs.byID = map[string]*fakeExec{}
	}
	f.seq++
	e := &fakeExec{id: "exec" + strconv.Itoa(f.seq), containerID: c.id, req: *req}
	f.execs.byID[e.id] = e
	return e.id, nil
}

func (f *fakeBackend) execLocked(id string) (*fakeExec, error) {
	if e, ok := f.execs.byID[id]; ok {
		return e, nil
	}
	return nil, errdefs.ErrNotFound.WithMessage("No such exec instance: " + id)
}

func (f *fakeBackend) ContainerExecStart(ctx context.Context, id string, opts ExecStartOptions) error {
	f.mu.Lock()
	e, err := f.execLocked(id)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	streams := &AttachStreams{Stdout: io.Discard, Stderr: io.Discard}
	if !opts.Detach {
		if streams, err = opts.GetStreams(!e.req.Tty); err != nil {
			return err
		}
	}
	code := 0
	switch cmd := e.req.Cmd; cmd[0] {
	case "echo":
		fmt.Fprintln(streams.Stdout, strings.Join(cmd[1:], " "))
	case "fail":
		fmt.Fprintln(streams.Stderr, "failing")
		code, _ = strconv.Atoi(cmd[1])
	case "cat":
		if streams.Stdin != nil {
			_, _ = io.Copy(streams.Stdout, streams.Stdin)
		}
	}
	f.mu.Lock()
	e.exitCode = &code
	f.mu.Unlock()
	return nil
}

func (f *fakeBackend) ContainerExecResize(ctx context.Context, id string, height, width uint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, err := f.execLocked(id)
	if err != nil {
		return err
	}
	e.height, e.width = height, width
	return nil
}

func (f *fakeBackend) ContainerExecInspect(ctx context.Context, id string) (*container.ExecInspectResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, err := f.execLocked(id)
	if err != nil {
		return nil, err
	}
	return &container.ExecInspectResponse{ID: e.id, ContainerID: e.containerID, ExitCode: e.exitCode, Running: e.exitCode == nil}, nil
}

// runningContainer creates and starts a fake container running cmd.
func runningContainer(t *testing.T, env *testEnv, name string) string {
	t.Helper()
	env.fake.addImage("busybox")
	id := createContainer(t, env, name, "busybox", []string{"sleep"}, false)
	if _, err := env.client.ContainerStart(testCtx(t), name, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestExecCreateErrors(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	if _, err := env.client.ExecCreate(ctx, "nope", client.ExecCreateOptions{Cmd: []string{"true"}}); !errdefs.IsNotFound(err) {
		t.Errorf("exec in an unknown container: %v, want not found", err)
	}
	env.fake.addImage("busybox")
	id := createContainer(t, env, "stopped", "busybox", []string{"sleep"}, false)
	_, err := env.client.ExecCreate(ctx, "stopped", client.ExecCreateOptions{Cmd: []string{"true"}})
	if !errdefs.IsConflict(err) || !strings.Contains(err.Error(), "container "+id+" is not running") {
		t.Errorf("exec in a stopped container: %v, want docker's 409", err)
	}
	runningContainer(t, env, "up")
	if _, err := env.client.ExecCreate(ctx, "up", client.ExecCreateOptions{}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("exec without a command: %v, want invalid argument", err)
	}
	if _, err := env.client.ExecInspect(ctx, "nope", client.ExecInspectOptions{}); !errdefs.IsNotFound(err) {
		t.Errorf("inspect of an unknown exec: %v, want not found", err)
	}
}

func TestExecStartStreams(t *testing.T) {
	tests := []struct {
		name           string
		cmd            []string
		tty            bool
		stdin          string
		mediaType      string
		stdout, stderr string
		code           int
	}{
		{"echo", []string{"echo", "hi"}, false, "", "application/vnd.docker.multiplexed-stream", "hi\n", "", 0},
		{"exit code", []string{"fail", "3"}, false, "", "application/vnd.docker.multiplexed-stream", "", "failing\n", 3},
		{"stdin", []string{"cat"}, false, "x\n", "application/vnd.docker.multiplexed-stream", "x\n", "", 0},
		{"tty is raw", []string{"echo", "t"}, true, "", "application/vnd.docker.raw-stream", "t\n", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			ctx := testCtx(t)
			runningContainer(t, env, "c")
			ex, err := env.client.ExecCreate(ctx, "c", client.ExecCreateOptions{Cmd: tt.cmd, TTY: tt.tty, AttachStdin: tt.stdin != "", AttachStdout: true, AttachStderr: true})
			if err != nil {
				t.Fatal(err)
			}
			att, err := env.client.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{TTY: tt.tty})
			if err != nil {
				t.Fatal(err)
			}
			defer att.Close()
			if mt, _ := att.MediaType(); mt != tt.mediaType {
				t.Errorf("media type %q, want %q", mt, tt.mediaType)
			}
			if tt.stdin != "" {
				_, _ = att.Conn.Write([]byte(tt.stdin))
				_ = att.CloseWrite()
			}
			var stdout, stderr bytes.Buffer
			if tt.tty {
				_, err = io.Copy(&stdout, att.Reader)
			} else {
				_, err = stdcopy.StdCopy(&stdout, &stderr, att.Reader)
			}
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != tt.stdout || stderr.String() != tt.stderr {
				t.Errorf("stdout %q stderr %q, want %q %q", stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
			insp, err := env.client.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if insp.ExitCode != tt.code || insp.Running {
				t.Errorf("inspect: exit %d running %v, want %d", insp.ExitCode, insp.Running, tt.code)
			}
		})
	}
}

func TestExecStartDetachedAndResize(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	runningContainer(t, env, "c")
	ex, err := env.client.ExecCreate(ctx, "c", client.ExecCreateOptions{Cmd: []string{"fail", "4"}, TTY: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.ExecResize(ctx, ex.ID, client.ExecResizeOptions{Height: 24, Width: 80}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.ExecStart(ctx, ex.ID, client.ExecStartOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	insp, err := env.client.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if insp.ExitCode != 4 {
		t.Errorf("detached exec exit %d, want 4", insp.ExitCode)
	}
	env.fake.mu.Lock()
	h, w := env.fake.execs.byID[ex.ID].height, env.fake.execs.byID[ex.ID].width
	env.fake.mu.Unlock()
	if h != 24 || w != 80 {
		t.Errorf("resize reached the engine as %dx%d, want 24x80", h, w)
	}
}
