package daemon

import (
	"context"

	containertypes "github.com/moby/moby/api/types/container"
)

// ContainerWait reports the container's exit status once the condition
// holds. not-running (the default) returns at once for a container that does
// not run, else at its next exit; next-exit waits for the next exit;
// removed for the removal. As in docker, an exit followed by a restart (a
// restart policy) counts as an exit: the status is that of the run that
// ended.
func (d *Daemon) ContainerWait(ctx context.Context, name string, condition containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
	c, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	c.Lock()
	lastExit := c.State.FinishedAt
	c.Unlock()
	out := make(chan containertypes.WaitResponse, 1)
	go func() {
		defer close(out)
		for {
			changed := d.changes(c.ID) // before reading state, so no change is missed
			c.Lock()
			st := c.State
			c.Unlock()
			exited := !st.FinishedAt.Equal(lastExit)
			var done bool
			switch condition {
			case containertypes.WaitConditionRemoved:
				_, err := d.containers.Get(c.ID)
				done = err != nil
			case containertypes.WaitConditionNextExit:
				done = exited
			default:
				done = exited || !isActive(st.Status)
			}
			if done {
				resp := containertypes.WaitResponse{StatusCode: int64(st.ExitCode)}
				if st.Error != "" {
					resp.Error = &containertypes.WaitExitError{Message: st.Error}
				}
				out <- resp
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// isActive reports whether a container in status counts as running for
// wait: docker's restarting container is running between two runs.
func isActive(status containertypes.ContainerState) bool {
	return status == containertypes.StateRunning || status == containertypes.StatePaused || status == containertypes.StateRestarting
}
