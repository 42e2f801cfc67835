package runtime

import (
	"bytes"
	"context"
)

// Pause freezes every process of the running container id (`runc pause`).
func (r *Runtime) Pause(ctx context.Context, id string) error {
	_, err := r.run(ctx, "pause", id, "pause", id)
	return err
}

// Resume thaws the processes of the paused container id (`runc resume`).
func (r *Runtime) Resume(ctx context.Context, id string) error {
	_, err := r.run(ctx, "resume", id, "resume", id)
	return err
}

// Update applies resources, a runtime-spec LinuxResources object as JSON,
// to the live container id (`runc update --resources -`). Only the limits
// the object sets change.
func (r *Runtime) Update(ctx context.Context, id string, resources []byte) error {
	cmd := r.command(ctx, "", "update", "--resources", "-", id)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = bytes.NewReader(resources)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := r.runCmd(cmd); err != nil {
		return r.fail(ctx, "update", id, err, append(stderr.Bytes(), stdout.Bytes()...))
	}
	return nil
}
