package container

import (
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/go-units"
	containertypes "github.com/moby/moby/api/types/container"
)

// State is the lifecycle state of a container. Status is the single source
// of truth; the booleans docker reports (Running, Paused...) derive from it.
// Change it only through the Set methods, which enforce the transition table.
type State struct {
	Status     containertypes.ContainerState
	Pid        int
	ExitCode   int
	Error      string
	OOMKilled  bool
	StartedAt  time.Time
	FinishedAt time.Time
	// Health is the healthcheck's state, nil for a container that never
	// ran one (see health.go).
	Health *containertypes.Health `json:",omitempty"`
}

// transitions lists, for each status, the statuses it may move to. A
// container that was never started is "created"; one whose process ended is
// "exited"; "removing" is held while its files go away and "dead" marks a
// removal that failed halfway.
var transitions = map[containertypes.ContainerState][]containertypes.ContainerState{
	containertypes.StateCreated:    {containertypes.StateRunning, containertypes.StateExited, containertypes.StateRemoving, containertypes.StateDead},
	containertypes.StateRunning:    {containertypes.StatePaused, containertypes.StateRestarting, containertypes.StateExited, containertypes.StateDead},
	containertypes.StatePaused:     {containertypes.StateRunning, containertypes.StateExited, containertypes.StateDead},
	containertypes.StateRestarting: {containertypes.StateRunning, containertypes.StateExited, containertypes.StateDead},
	containertypes.StateExited:     {containertypes.StateRunning, containertypes.StateRestarting, containertypes.StateRemoving, containertypes.StateDead},
	containertypes.StateRemoving:   {containertypes.StateDead, containertypes.StateExited},
	containertypes.StateDead:       {containertypes.StateRemoving},
}

// CanTransition reports whether the transition table allows moving from
// status from to status to.
func CanTransition(from, to containertypes.ContainerState) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

func (s *State) status() containertypes.ContainerState {
	if s.Status == "" {
		return containertypes.StateCreated
	}
	return s.Status
}

// refuse builds the conflict error for an illegal transition, in docker's words.
func (s *State) refuse(to containertypes.ContainerState) error {
	from := s.status()
	var msg string
	switch {
	case to == containertypes.StateRunning && from == containertypes.StateRunning:
		msg = "container is already running"
	case to == containertypes.StateRunning && (from == containertypes.StateRemoving || from == containertypes.StateDead):
		msg = "container is marked for removal and cannot be started"
	case to == containertypes.StateRunning && from == containertypes.StatePaused:
		msg = "cannot start a paused container, try unpause instead"
	case to == containertypes.StateRemoving && from == containertypes.StateRemoving:
		msg = "removal of container is already in progress"
	case to == containertypes.StateRemoving:
		msg = fmt.Sprintf("container is %s: stop the container before removing or force remove", from)
	case to == containertypes.StatePaused && from == containertypes.StatePaused:
		msg = "container is already paused"
	case to == containertypes.StatePaused, to == containertypes.StateRestarting:
		msg = "container is not running"
	case to == containertypes.StateExited:
		msg = "container is not running"
	default:
		msg = fmt.Sprintf("cannot change container state from %s to %s", from, to)
	}
	return errdefs.ErrConflict.WithMessage(msg)
}

func (s *State) move(to containertypes.ContainerState) error {
	if !CanTransition(s.status(), to) {
		return s.refuse(to)
	}
	s.Status = to
	return nil
}

// SetRunning records that the container's process pid started at at: a
// start (from created or exited) or a restart-policy restart (from
// restarting). A paused container resumes through SetUnpaused instead.
func (s *State) SetRunning(pid int, at time.Time) error {
	if s.status() == containertypes.StatePaused {
		return s.refuse(containertypes.StateRunning)
	}
	if err := s.move(containertypes.StateRunning); err != nil {
		return err
	}
	s.Pid = pid
	s.StartedAt = at.UTC()
	s.ExitCode = 0
	s.Error = ""
	s.OOMKilled = false
	return nil
}

// SetExited records that the container's process ended with code at at.
// A container that never ran (created) may also be marked exited, as docker
// does when its start fails.
func (s *State) SetExited(code int, at time.Time, oomKilled bool) error {
	if err := s.move(containertypes.StateExited); err != nil {
		return err
	}
	s.Pid = 0
	s.ExitCode = code
	s.OOMKilled = oomKilled
	s.FinishedAt = at.UTC()
	return nil
}

// SetRestarting records an exit with code at at after which a restart
// policy will start the container again.
func (s *State) SetRestarting(code int, at time.Time) error {
	if err := s.move(containertypes.StateRestarting); err != nil {
		return err
	}
	s.Pid = 0
	s.ExitCode = code
	s.FinishedAt = at.UTC()
	return nil
}

// SetPaused records that the container's processes are frozen.
func (s *State) SetPaused() error {
	return s.move(containertypes.StatePaused)
}

// SetUnpaused records that a paused container runs again.
func (s *State) SetUnpaused() error {
	if s.status() != containertypes.StatePaused {
		return errdefs.ErrConflict.WithMessage("container is not paused")
	}
	return s.move(containertypes.StateRunning)
}

// SetRemoving marks the container as being removed. It is refused while the
// container runs (or is paused or restarting) and when a removal is already
// in progress.
func (s *State) SetRemoving() error {
	return s.move(containertypes.StateRemoving)
}

// ResetRemoving returns a container whose removal was abandoned to exited.
func (s *State) ResetRemoving() error {
	if s.status() != containertypes.StateRemoving {
		return nil
	}
	return s.move(containertypes.StateExited)
}

// SetDead marks a container whose removal failed halfway.
func (s *State) SetDead() error {
	if s.status() == containertypes.StateDead {
		return nil
	}
	return s.move(containertypes.StateDead)
}

// IsRunning reports whether the container has a live process (running,
// paused or restarting), as docker's State.Running does.
func (s State) IsRunning() bool {
	switch s.status() {
	case containertypes.StateRunning, containertypes.StatePaused, containertypes.StateRestarting:
		return true
	}
	return false
}

// String returns docker's ps STATUS column for the state, as of now.
func (s State) String() string {
	return s.StringAt(time.Now())
}

// StringAt returns docker's ps STATUS column for the state as seen at now:
// "Created", "Up 3 seconds", "Up 5 seconds (healthy)", "Up 2 hours (Paused)", "Restarting (1) 5
// seconds ago", "Exited (0) 2 minutes ago", "Removal In Progress", "Dead".
func (s State) StringAt(now time.Time) string {
	switch s.status() {
	case containertypes.StateRunning:
		return "Up " + units.HumanDuration(now.Sub(s.StartedAt)) + s.healthText()
	case containertypes.StatePaused:
		return fmt.Sprintf("Up %s (Paused)", units.HumanDuration(now.Sub(s.StartedAt)))
	case containertypes.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", s.ExitCode, units.HumanDuration(now.Sub(s.FinishedAt)))
	case containertypes.StateRemoving:
		return "Removal In Progress"
	case containertypes.StateDead:
		return "Dead"
	}
	if s.StartedAt.IsZero() {
		return "Created"
	}
	if s.FinishedAt.IsZero() {
		return ""
	}
	return fmt.Sprintf("Exited (%d) %s ago", s.ExitCode, units.HumanDuration(now.Sub(s.FinishedAt)))
}

// apiTime formats t as docker does in inspect output; the zero time reads
// "0001-01-01T00:00:00Z".
func apiTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// Inspect returns the state in the Engine API's shape.
func (s State) Inspect() *containertypes.State {
	st := s.status()
	return &containertypes.State{
		Status:     st,
		Running:    s.IsRunning(),
		Paused:     st == containertypes.StatePaused,
		Restarting: st == containertypes.StateRestarting,
		OOMKilled:  s.OOMKilled,
		Dead:       st == containertypes.StateDead,
		Pid:        s.Pid,
		ExitCode:   s.ExitCode,
		Error:      s.Error,
		StartedAt:  apiTime(s.StartedAt),
		FinishedAt: apiTime(s.FinishedAt),
		Health:     s.inspectHealth(),
	}
}
