package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/runtime"
	"github.com/berth-project/berth/internal/shim"
)

// execStreams answers GetStreams with buffers.
func execStreams(stdout, stderr *bytes.Buffer, multiplexed *bool) backend.ExecStartOptions {
	return backend.ExecStartOptions{GetStreams: func(m bool) (*backend.AttachStreams, error) {
		*multiplexed = m
		return &backend.AttachStreams{Stdout: stdout, Stderr: stderr}, nil
	}}
}

func TestExecProcessFromTheContainers(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "ctr", func(r *containertypes.CreateRequest) {
		r.Config.Env = []string{"CVAR=c", "OVER=container"}
		r.Config.WorkingDir = "/srv"
		r.Config.Hostname = "box"
	})
	base := e.spec(t, id).Process
	var got specs.Process
	e.launcher.ExecFunc = func(ctx context.Context, o shim.ExecOpts) (int, error) {
		if err := json.Unmarshal(o.Process, &got); err != nil {
			return 0, err
		}
		return 3, nil
	}
	tests := []struct {
		name  string
		req   containertypes.ExecCreateRequest
		check func(t *testing.T, p *specs.Process)
	}{
		{"defaults are the container's", containertypes.ExecCreateRequest{Cmd: []string{"sh", "-c", "x"}, AttachStdout: true, AttachStderr: true}, func(t *testing.T, p *specs.Process) {
			if !slices.Equal(p.Args, []string{"sh", "-c", "x"}) || p.Cwd != "/srv" || p.Terminal || p.User.UID != base.User.UID {
				t.Errorf("process %+v", p)
			}
			if !slices.Contains(p.Env, "CVAR=c") || !slices.Contains(p.Env, "HOSTNAME=box") || slices.ContainsFunc(p.Env, func(s string) bool { return strings.HasPrefix(s, "TERM=") }) {
				t.Errorf("env %q", p.Env)
			}
			if !slices.Equal(p.Capabilities.Bounding, base.Capabilities.Bounding) {
				t.Errorf("capabilities %v, want the container's", p.Capabilities)
			}
		}},
		{"overrides", containertypes.ExecCreateRequest{Cmd: []string{"id"}, Env: []string{"OVER=exec", "NEW=1"}, WorkingDir: "/etc", User: "1234:5678", Tty: true, ConsoleSize: &[2]uint{30, 100}}, func(t *testing.T, p *specs.Process) {
			if p.Cwd != "/etc" || p.User.UID != 1234 || p.User.GID != 5678 || !p.Terminal || p.ConsoleSize == nil || p.ConsoleSize.Height != 30 || p.ConsoleSize.Width != 100 {
				t.Errorf("process %+v", p)
			}
			if !slices.Contains(p.Env, "OVER=exec") || slices.Contains(p.Env, "OVER=container") || !slices.Contains(p.Env, "NEW=1") || !slices.Contains(p.Env, "TERM=xterm") {
				t.Errorf("env %q", p.Env)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			execID, err := e.d.ContainerExecCreate(context.Background(), "ctr", &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			var multiplexed bool
			if err := e.d.ContainerExecStart(context.Background(), execID, execStreams(&stdout, &stderr, &multiplexed)); err != nil {
				t.Fatal(err)
			}
			tt.check(t, &got)
			if multiplexed == tt.req.Tty {
				t.Errorf("multiplexed %v with tty %v", multiplexed, tt.req.Tty)
			}
			insp, err := e.d.ContainerExecInspect(context.Background(), execID)
			if err != nil {
				t.Fatal(err)
			}
			if insp.Running || insp.ExitCode == nil || *insp.ExitCode != 3 || insp.ContainerID != id || insp.ProcessConfig.Entrypoint != tt.req.Cmd[0] {
				t.Errorf("inspect %+v", insp)
			}
		})
	}
}

func TestExecStreamsOnlyWhatWasAttached(t *testing.T) {
	e := newEnv(t)
	e.run(t, "ctr", nil)
	e.launcher.ExecFunc = func(ctx context.Context, o shim.ExecOpts) (int, error) {
		if o.Stdout != nil {
			fmt.Fprint(o.Stdout, "out")
		}
		if o.Stderr != nil {
			fmt.Fprint(o.Stderr, "err")
		}
		return 0, nil
	}
	execID, err := e.d.ContainerExecCreate(context.Background(), "ctr", &containertypes.ExecCreateRequest{Cmd: []string{"x"}, AttachStdout: true})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	var m bool
	if err := e.d.ContainerExecStart(context.Background(), execID, execStreams(&stdout, &stderr, &m)); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "out" || stderr.Len() != 0 {
		t.Errorf("stdout %q stderr %q, want stdout only", stdout.String(), stderr.String())
	}
}

func TestExecPrivilegedGetsTheHostsCapabilities(t *testing.T) {
	base := &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN"}, Effective: []string{"CAP_CHOWN"}, Permitted: []string{"CAP_CHOWN"}}}
	host := []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}
	for _, privileged := range []bool{false, true} {
		p, err := execProcess(base, t.TempDir(), "h", nil, "", "", host, &containertypes.ExecCreateRequest{Cmd: []string{"x"}, Privileged: privileged})
		if err != nil {
			t.Fatal(err)
		}
		want := base.Capabilities.Effective
		if privileged {
			want = host
		}
		if !slices.Equal(p.Capabilities.Effective, want) || !slices.Equal(p.Capabilities.Bounding, want) || !slices.Equal(p.Capabilities.Permitted, want) {
			t.Errorf("privileged %v: capabilities %+v, want %v", privileged, p.Capabilities, want)
		}
	}
	if !slices.Equal(base.Capabilities.Effective, []string{"CAP_CHOWN"}) {
		t.Error("the container's process was modified")
	}
}

func TestExecRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.create(t, "created", nil)
	if _, err := e.d.ContainerExecCreate(ctx, "created", &containertypes.ExecCreateRequest{Cmd: []string{"x"}}); !errdefs.IsConflict(err) || err.Error() != "container "+id+" is not running" {
		t.Errorf("exec in a created container: %v, want docker's conflict", err)
	}
	if _, err := e.d.ContainerExecCreate(ctx, "nope", &containertypes.ExecCreateRequest{Cmd: []string{"x"}}); !errdefs.IsNotFound(err) {
		t.Errorf("exec in an unknown container: %v", err)
	}
	e.run(t, "ctr", nil)
	for _, req := range []containertypes.ExecCreateRequest{{}, {Cmd: []string{"x"}, DetachKeys: "ctrl-"}} {
		if _, err := e.d.ContainerExecCreate(ctx, "ctr", &req); err == nil {
			t.Errorf("exec %+v accepted", req)
		}
	}
	if _, err := e.d.ContainerExecInspect(ctx, "nope"); !errdefs.IsNotFound(err) {
		t.Errorf("inspect of an unknown exec: %v", err)
	}
	if err := e.d.ContainerExecStart(ctx, "nope", backend.ExecStartOptions{Detach: true}); !errdefs.IsNotFound(err) {
		t.Errorf("start of an unknown exec: %v", err)
	}
}

func TestExecCommandNotFound(t *testing.T) {
	e := newEnv(t)
	e.run(t, "ctr", nil)
	e.launcher.ExecErr = &runtime.ExecError{Failure: runtime.CommandNotFound, Msg: `exec failed: exec: "nosuch": executable file not found in $PATH`}
	for _, detach := range []bool{false, true} {
		execID, err := e.d.ContainerExecCreate(context.Background(), "ctr", &containertypes.ExecCreateRequest{Cmd: []string{"nosuch"}, AttachStdout: true})
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		var m bool
		opts := execStreams(&stdout, &stderr, &m)
		opts.Detach = detach
		err = e.d.ContainerExecStart(context.Background(), execID, opts)
		if err == nil || !strings.HasPrefix(err.Error(), "OCI runtime exec failed: exec failed: ") || !strings.HasSuffix(err.Error(), ": unknown") {
			t.Errorf("detach %v: error %v, want docker's wording", detach, err)
		}
		insp, _ := e.d.ContainerExecInspect(context.Background(), execID)
		if insp.ExitCode == nil || *insp.ExitCode != 127 {
			t.Errorf("detach %v: exit code %v, want 127", detach, insp.ExitCode)
		}
	}
}
