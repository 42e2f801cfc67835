package daemon

import (
	"context"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/container"
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
	holds := func(st container.State) bool {
		exited := !st.FinishedAt.Equal(lastExit)
		switch condition {
		case containertypes.WaitConditionRemoved:
			// a state of the run (a start that woke the waiter) is not
			// the exit the removal followed
			_, err := d.containers.Get(c.ID)
			return err != nil && !isActive(st.Status)
		case containertypes.WaitConditionNextExit:
			return exited
		default:
			return exited || !isActive(st.Status)
		}
	}
	out := make(chan containertypes.WaitResponse, 1)
	go func() {
		defer close(out)
		var seen *container.State // the state the last change made
		for {
			w := d.changes(c.ID) // before reading state, so no change is missed
			c.Lock()
			st := c.State
			c.Unlock()
			// the state a change made first: a restart may have replaced
			// the exit in the record since
			if seen != nil && holds(*seen) {
				st = *seen
			} else if !holds(st) {
				select {
				case <-w.ch:
					seen = w.st
					continue
				case <-ctx.Done():
					return
				}
			}
			resp := containertypes.WaitResponse{StatusCode: int64(st.ExitCode)}
			// dockerd clears the error a failed start left once the
			// container is removed (SetRemoved): docker run --rm waits
			// for the removal and would print "Error waiting for
			// container: <the start's error>" beside the start's own
			if _, err := d.containers.Get(c.ID); st.Error != "" && err == nil {
				resp.Error = &containertypes.WaitExitError{Message: st.Error}
			}
			out <- resp
			return
		}
	}()
	return out, nil
}

// isActive reports whether a container in status counts as running for
// wait: docker's restarting container is running between two runs.
func isActive(status containertypes.ContainerState) bool {
	return status == containertypes.StateRunning || status == containertypes.StatePaused || status == containertypes.StateRestarting
}
