package daemon

import (
	"context"

	containertypes "github.com/moby/moby/api/types/container"
)

// ContainerWait reports the container's exit status once the condition holds:
// not-running (the default) returns at once for a stopped container,
// next-exit waits for the next exit, removed for the removal.
func (d *Daemon) ContainerWait(ctx context.Context, name string, condition containertypes.WaitCondition) (<-chan containertypes.WaitResponse, error) {
	c, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	c.Lock()
	startFinished := c.State.FinishedAt
	c.Unlock()
	out := make(chan containertypes.WaitResponse, 1)
	go func() {
		defer close(out)
		for {
			changed := d.changes(c.ID) // before reading state, so no change is missed
			c.Lock()
			st := c.State
			c.Unlock()
			notRunning := st.Status != containertypes.StateRunning && st.Status != containertypes.StatePaused && st.Status != containertypes.StateRestarting
			var done bool
			switch condition {
			case containertypes.WaitConditionRemoved:
				_, err := d.containers.Get(c.ID)
				done = err != nil
			case containertypes.WaitConditionNextExit:
				done = notRunning && !st.FinishedAt.Equal(startFinished)
			default:
				done = notRunning
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
