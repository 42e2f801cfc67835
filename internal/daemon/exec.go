package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/moby/moby/api/types/events"
	"os"
	"path/filepath"
	"slices"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/term"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/container"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/tasks"
)

// ContainerExecCreate registers an exec of req in the running container
// name: its process is the container's (capabilities, limits, profiles)
// with the exec's command, environment merged over the container's, and
// user and working directory defaulting to the container's.
func (d *Daemon) ContainerExecCreate(ctx context.Context, name string, req *containertypes.ExecCreateRequest) (string, error) {
	c, err := d.lookup(name)
	if err != nil {
		return "", err
	}
	if len(req.Cmd) == 0 {
		return "", errdefs.ErrInvalidArgument.WithMessage("No exec command specified")
	}
	if req.DetachKeys != "" {
		if _, err := term.ToBytes(req.DetachKeys); err != nil {
			return "", errdefs.ErrInvalidArgument.WithMessage(fmt.Sprintf("Invalid detach keys (%s) provided", req.DetachKeys))
		}
	}
	c.Lock()
	status, paused := c.State.Status, c.State.Status == containertypes.StatePaused
	c.Unlock()
	if paused {
		return "", errdefs.ErrConflict.WithMessage(fmt.Sprintf("Container %s is paused, unpause the container before exec", c.ID))
	}
	if status != containertypes.StateRunning || d.task(c.ID) == nil {
		return "", errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", c.ID))
	}
	process, err := d.execProcess(c, req)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(process)
	if err != nil {
		return "", fmt.Errorf("exec: encode process: %w", err)
	}
	meta := *req
	e := d.tasks.NewExec(c.ID, data, req.Tty, &meta)
	d.lockAndLogContainerEvent(c, execAction(events.ActionExecCreate, req.Cmd), map[string]string{"execID": e.ID})
	return e.ID, nil
}

// execProcess is the container's process from its bundle with req's
// command, environment, user and working directory.
func (d *Daemon) execProcess(c *container.Container, req *containertypes.ExecCreateRequest) (*specs.Process, error) {
	bundle := d.containerStateDir(c.ID)
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("exec: read the container's spec: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil || spec.Process == nil {
		return nil, fmt.Errorf("exec: bad spec of container %s: %v", c.ID, err)
	}
	c.Lock()
	links, err := d.linkedEnv(c)
	env := append(links, c.Config.Env...)
	hostname, cwd, user := c.Config.Hostname, c.Config.WorkingDir, c.Config.User
	c.Unlock()
	if err != nil {
		return nil, err
	}
	var hostCaps []string
	if req.Privileged {
		hostCaps = d.host.Capabilities
	}
	return execProcess(spec.Process, filepath.Join(bundle, "rootfs"), hostname, env, cwd, user, hostCaps, req)
}

// execProcess derives an exec's process from the container's (pure but for
// reading the image's /etc/passwd and /etc/group for a user name). A
// privileged exec gets hostCaps, every capability the host grants, as in
// docker; nil leaves it the container's.
func execProcess(base *specs.Process, rootfs, hostname string, containerEnv []string, containerCwd, containerUser string, hostCaps []string, req *containertypes.ExecCreateRequest) (*specs.Process, error) {
	p := *base
	p.Args = append([]string(nil), req.Cmd...)
	p.Terminal = req.Tty
	p.ConsoleSize = nil
	if req.Tty && req.ConsoleSize != nil && req.ConsoleSize[0] > 0 && req.ConsoleSize[1] > 0 {
		p.ConsoleSize = &specs.Box{Height: req.ConsoleSize[0], Width: req.ConsoleSize[1]}
	}
	p.Env = oci.Env(hostname, req.Tty, append(append([]string(nil), containerEnv...), req.Env...))
	p.Cwd = containerCwd
	if req.WorkingDir != "" {
		p.Cwd = req.WorkingDir
	}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if req.User != "" && req.User != containerUser {
		u, err := oci.ResolveUser(rootfs, req.User)
		if err != nil {
			return nil, err
		}
		p.User = u
	}
	if req.Privileged && hostCaps != nil {
		p.Capabilities = &specs.LinuxCapabilities{
			Bounding:  slices.Clone(hostCaps),
			Effective: slices.Clone(hostCaps),
			Permitted: slices.Clone(hostCaps),
		}
	}
	return &p, nil
}

// ContainerExecStart runs the exec. Detached, it returns once the process
// was handed to the shim and runs on in the background; attached, it
// streams until the process exits. A command that cannot be executed is
// reported as dockerd does (its exit code is in inspect).
func (d *Daemon) ContainerExecStart(ctx context.Context, id string, opts backend.ExecStartOptions) error {
	e, err := d.tasks.Exec(id)
	if err != nil {
		return err
	}
	if d.task(e.ContainerID) == nil {
		return errdefs.ErrConflict.WithMessage(fmt.Sprintf("container %s is not running", e.ContainerID))
	}
	meta := e.Meta.(*containertypes.ExecCreateRequest)
	// exec_start and exec_die are logged once, by the first start
	c, err := d.lookup(e.ContainerID)
	if st := e.State(); err != nil || st.Running || st.ExitCode != nil {
		c = nil
	}
	if c != nil {
		d.lockAndLogContainerEvent(c, execAction(events.ActionExecStart, meta.Cmd), map[string]string{"execID": e.ID})
	}
	if opts.Detach {
		// The exec outlives the request; its output is discarded.
		err := d.tasks.StartExecDetached(context.WithoutCancel(ctx), e)
		if err == nil && c != nil {
			d.logExecDie(c, e)
		}
		return tasks.ExecStartError(err)
	}
	streams, err := opts.GetStreams(!e.Tty)
	if err != nil {
		return err
	}
	if streams.Stdin != nil {
		defer streams.Stdin.Close()
	}
	var s tasks.ExecStreams
	if meta.AttachStdin && streams.Stdin != nil {
		s.Stdin = streams.Stdin
	}
	if meta.AttachStdout {
		s.Stdout = streams.Stdout
	}
	if meta.AttachStderr && !e.Tty {
		s.Stderr = streams.Stderr
	}
	err = d.tasks.StartExec(ctx, e, s)
	if c != nil && (err == nil || ctx.Err() != nil) {
		d.logExecDie(c, e) // at once when it ended, else when it does
	}
	return tasks.ExecStartError(err)
}

// ContainerExecResize sets an exec's terminal size.
func (d *Daemon) ContainerExecResize(ctx context.Context, id string, height, width uint) error {
	e, err := d.tasks.Exec(id)
	if err != nil {
		return err
	}
	return e.Resize(uint16(width), uint16(height))
}

// ContainerExecInspect describes an exec.
func (d *Daemon) ContainerExecInspect(ctx context.Context, id string) (*containertypes.ExecInspectResponse, error) {
	e, err := d.tasks.Exec(id)
	if err != nil {
		return nil, err
	}
	meta := e.Meta.(*containertypes.ExecCreateRequest)
	st := e.State()
	privileged := meta.Privileged
	pc := &containertypes.ExecProcessConfig{
		Tty:        meta.Tty,
		Entrypoint: meta.Cmd[0],
		Arguments:  append([]string{}, meta.Cmd[1:]...),
		Privileged: &privileged,
		User:       meta.User,
	}
	return &containertypes.ExecInspectResponse{
		ID:            e.ID,
		Running:       st.Running,
		ExitCode:      st.ExitCode,
		ProcessConfig: pc,
		OpenStdin:     meta.AttachStdin,
		OpenStdout:    meta.AttachStdout,
		OpenStderr:    meta.AttachStderr,
		CanRemove:     !st.Running && st.ExitCode != nil,
		ContainerID:   e.ContainerID,
		DetachKeys:    []byte(meta.DetachKeys),
		Pid:           st.Pid,
	}, nil
}
