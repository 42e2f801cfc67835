package container

import (
	"testing"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestStateTransitions(t *testing.T) {
	type step struct {
		name    string
		do      func(*State) error
		want    containertypes.ContainerState
		wantErr string // conflict message, "" when allowed
	}
	run := func(s *State) error { return s.SetRunning(42, t0) }
	exit := func(s *State) error { return s.SetExited(3, t0.Add(time.Minute), false) }
	tests := []struct {
		name  string
		steps []step
	}{
		{"life", []step{
			{"start", run, containertypes.StateRunning, ""},
			{"start again", run, containertypes.StateRunning, "container is already running"},
			{"remove while running", (*State).SetRemoving, containertypes.StateRunning, "container is running: stop the container before removing or force remove"},
			{"pause", (*State).SetPaused, containertypes.StatePaused, ""},
			{"pause again", (*State).SetPaused, containertypes.StatePaused, "container is already paused"},
			{"start paused", run, containertypes.StatePaused, "cannot start a paused container, try unpause instead"},
			{"unpause", (*State).SetUnpaused, containertypes.StateRunning, ""},
			{"exit", exit, containertypes.StateExited, ""},
			{"exit again", exit, containertypes.StateExited, "container is not running"},
			{"pause exited", (*State).SetPaused, containertypes.StateExited, "container is not running"},
			{"restart", run, containertypes.StateRunning, ""},
			{"restarting", func(s *State) error { return s.SetRestarting(1, t0) }, containertypes.StateRestarting, ""},
			{"remove restarting", (*State).SetRemoving, containertypes.StateRestarting, "container is restarting: stop the container before removing or force remove"},
			{"exit", exit, containertypes.StateExited, ""},
			{"remove", (*State).SetRemoving, containertypes.StateRemoving, ""},
			{"remove again", (*State).SetRemoving, containertypes.StateRemoving, "removal of container is already in progress"},
			{"start removing", run, containertypes.StateRemoving, "container is marked for removal and cannot be started"},
			{"dead", (*State).SetDead, containertypes.StateDead, ""},
			{"start dead", run, containertypes.StateDead, "container is marked for removal and cannot be started"},
		}},
		{"created", []step{
			{"remove created", (*State).SetRemoving, containertypes.StateRemoving, ""},
			{"abandon", (*State).ResetRemoving, containertypes.StateExited, ""},
		}},
		{"unpause running", []step{
			{"start", run, containertypes.StateRunning, ""},
			{"unpause", (*State).SetUnpaused, containertypes.StateRunning, "container is not paused"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &State{Status: containertypes.StateCreated}
			for _, st := range tc.steps {
				err := st.do(s)
				switch {
				case st.wantErr == "" && err != nil:
					t.Fatalf("%s: unexpected error %v", st.name, err)
				case st.wantErr != "" && (err == nil || err.Error() != st.wantErr || !errdefs.IsConflict(err)):
					t.Fatalf("%s: got error %v, want conflict %q", st.name, err, st.wantErr)
				}
				if s.Status != st.want {
					t.Fatalf("%s: status %s, want %s", st.name, s.Status, st.want)
				}
			}
		})
	}
}

func TestSetRunningResetsExit(t *testing.T) {
	s := State{Status: containertypes.StateExited, ExitCode: 137, OOMKilled: true, Error: "boom"}
	if err := s.SetRunning(7, t0); err != nil {
		t.Fatal(err)
	}
	if s.Pid != 7 || s.ExitCode != 0 || s.OOMKilled || s.Error != "" || !s.StartedAt.Equal(t0) {
		t.Fatalf("unexpected state %+v", s)
	}
	if err := s.SetExited(137, t0.Add(time.Second), true); err != nil {
		t.Fatal(err)
	}
	if s.Pid != 0 || s.ExitCode != 137 || !s.OOMKilled {
		t.Fatalf("unexpected state %+v", s)
	}
}

func TestStateString(t *testing.T) {
	tests := []struct {
		name string
		s    State
		now  time.Time
		want string
	}{
		{"created", State{Status: containertypes.StateCreated}, t0, "Created"},
		{"up seconds", State{Status: containertypes.StateRunning, StartedAt: t0}, t0.Add(3 * time.Second), "Up 3 seconds"},
		{"up less than a second", State{Status: containertypes.StateRunning, StartedAt: t0}, t0, "Up Less than a second"},
		{"up about a minute", State{Status: containertypes.StateRunning, StartedAt: t0}, t0.Add(70 * time.Second), "Up About a minute"},
		{"up hours paused", State{Status: containertypes.StatePaused, StartedAt: t0}, t0.Add(2 * time.Hour), "Up 2 hours (Paused)"},
		{"restarting", State{Status: containertypes.StateRestarting, ExitCode: 1, StartedAt: t0, FinishedAt: t0}, t0.Add(5 * time.Second), "Restarting (1) 5 seconds ago"},
		{"exited", State{Status: containertypes.StateExited, StartedAt: t0, FinishedAt: t0.Add(time.Second)}, t0.Add(2*time.Minute + time.Second), "Exited (0) 2 minutes ago"},
		{"exited never started", State{Status: containertypes.StateExited, ExitCode: 127}, t0, "Created"},
		{"removing", State{Status: containertypes.StateRemoving, StartedAt: t0}, t0, "Removal In Progress"},
		{"dead", State{Status: containertypes.StateDead}, t0, "Dead"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.StringAt(tc.now); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStateInspect(t *testing.T) {
	got := State{Status: containertypes.StatePaused, Pid: 9, StartedAt: t0}.Inspect()
	if !got.Running || !got.Paused || got.Restarting || got.Dead || got.Pid != 9 {
		t.Errorf("flags wrong: %+v", got)
	}
	if got.StartedAt != "2024-05-01T12:00:00Z" || got.FinishedAt != "0001-01-01T00:00:00Z" {
		t.Errorf("times wrong: %q %q", got.StartedAt, got.FinishedAt)
	}
	if d := (State{Status: containertypes.StateDead}).Inspect(); !d.Dead || d.Running {
		t.Errorf("dead flags wrong: %+v", d)
	}
}
