package container

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
)

func TestProbeConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  containertypes.Config
		want *Healthcheck // nil: no probe
	}{
		{"none configured", containertypes.Config{}, nil},
		{"NONE", containertypes.Config{Healthcheck: &containertypes.HealthConfig{Test: []string{"NONE"}, Interval: time.Second}}, nil},
		{"empty test", containertypes.Config{Healthcheck: &containertypes.HealthConfig{Interval: time.Second}}, nil},
		{"unknown form", containertypes.Config{Healthcheck: &containertypes.HealthConfig{Test: []string{"EXEC", "true"}}}, nil},
		{"CMD without command", containertypes.Config{Healthcheck: &containertypes.HealthConfig{Test: []string{"CMD"}}}, nil},
		{"CMD with docker's defaults", containertypes.Config{Healthcheck: &containertypes.HealthConfig{Test: []string{"CMD", "curl", "-f", "x"}}},
			&Healthcheck{Cmd: []string{"curl", "-f", "x"}, Interval: 30 * time.Second, Timeout: 30 * time.Second, StartInterval: 5 * time.Second, Retries: 3}},
		{"CMD-SHELL with /bin/sh -c and the options", containertypes.Config{Healthcheck: &containertypes.HealthConfig{Test: []string{"CMD-SHELL", "exit 1"}, Interval: time.Second, Timeout: 2 * time.Second, StartPeriod: 3 * time.Second, StartInterval: 4 * time.Second, Retries: 5}},
			&Healthcheck{Cmd: []string{"/bin/sh", "-c", "exit 1"}, Interval: time.Second, Timeout: 2 * time.Second, StartPeriod: 3 * time.Second, StartInterval: 4 * time.Second, Retries: 5}},
		{"CMD-SHELL with the image's SHELL", containertypes.Config{Shell: []string{"/bin/ash", "-ec"}, Healthcheck: &containertypes.HealthConfig{Test: []string{"CMD-SHELL", "true"}}},
			&Healthcheck{Cmd: []string{"/bin/ash", "-ec", "true"}, Interval: 30 * time.Second, Timeout: 30 * time.Second, StartInterval: 5 * time.Second, Retries: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ProbeConfig(&tt.cfg)
			if tt.want == nil {
				if ok {
					t.Fatalf("got a probe %+v, want none", got)
				}
				return
			}
			if !ok || !reflect.DeepEqual(got, *tt.want) {
				t.Fatalf("got %+v (%v), want %+v", got, ok, *tt.want)
			}
		})
	}
}

func TestNextProbe(t *testing.T) {
	h := Healthcheck{Interval: 30 * time.Second, StartPeriod: 60 * time.Second, StartInterval: 5 * time.Second}
	for _, tt := range []struct {
		elapsed time.Duration
		status  containertypes.HealthStatus
		want    time.Duration
	}{
		{0, containertypes.Starting, 5 * time.Second},
		{50 * time.Second, containertypes.Starting, 5 * time.Second},
		{10 * time.Second, containertypes.Healthy, 30 * time.Second},
		{40 * time.Second, containertypes.Healthy, 20 * time.Second}, // the start period ends first
		{60 * time.Second, containertypes.Starting, 30 * time.Second},
		{2 * time.Hour, containertypes.Unhealthy, 30 * time.Second},
	} {
		if got := h.NextProbe(t0.Add(tt.elapsed), t0, tt.status); got != tt.want {
			t.Errorf("after %s, %s: next probe in %s, want %s", tt.elapsed, tt.status, got, tt.want)
		}
	}
	if got := (Healthcheck{Interval: time.Second}).NextProbe(t0, t0, containertypes.Starting); got != time.Second {
		t.Errorf("no start period: first probe after %s, want the interval", got)
	}
}

func TestRecordProbe(t *testing.T) {
	h := Healthcheck{Retries: 2, StartPeriod: 10 * time.Second}
	s := State{}
	if err := s.SetRunning(1, t0); err != nil {
		t.Fatal(err)
	}
	s.StartHealth()
	probe := func(at time.Duration, code int) bool {
		return s.RecordProbe(containertypes.HealthcheckResult{Start: t0.Add(at), End: t0.Add(at + time.Millisecond), ExitCode: code, Output: "x"}, h)
	}
	check := func(step string, changed, wantChanged bool, status containertypes.HealthStatus, streak int) {
		t.Helper()
		if changed != wantChanged || s.Health.Status != status || s.Health.FailingStreak != streak {
			t.Errorf("%s: changed %v status %s streak %d, want %v %s %d", step, changed, s.Health.Status, s.Health.FailingStreak, wantChanged, status, streak)
		}
	}
	check("in the start period, failures do not count", probe(time.Second, 1), false, containertypes.Starting, 0)
	check("nor an error", probe(2*time.Second, -1), false, containertypes.Starting, 0)
	check("after it, they do", probe(11*time.Second, 1), false, containertypes.Starting, 1)
	check("retries make it unhealthy", probe(12*time.Second, 2), true, containertypes.Unhealthy, 2)
	check("and it stays so", probe(13*time.Second, 1), false, containertypes.Unhealthy, 3)
	check("a success heals it", probe(14*time.Second, 0), true, containertypes.Healthy, 0)
	check("one failure is not enough", probe(15*time.Second, 1), false, containertypes.Healthy, 1)
	if len(s.Health.Log) != MaxHealthLog || s.Health.Log[MaxHealthLog-1].Start != t0.Add(15*time.Second) || s.Health.Log[0].Start != t0.Add(11*time.Second) {
		t.Errorf("log keeps %d probes, oldest %v", len(s.Health.Log), s.Health.Log[0].Start)
	}

	// a healthy container that had a success is no longer "starting"
	s.StartHealth()
	check("a new run starts afresh", false, false, containertypes.Starting, 0)
	if len(s.Health.Log) != MaxHealthLog {
		t.Errorf("a new run dropped the log")
	}
	s.StopHealth()
	if s.Health.Status != containertypes.Unhealthy {
		t.Errorf("stopped: %s, want docker's unhealthy", s.Health.Status)
	}
}

func TestHealthInStatusAndInspect(t *testing.T) {
	s := State{}
	if err := s.SetRunning(1, t0); err != nil {
		t.Fatal(err)
	}
	if got := s.StringAt(t0.Add(5 * time.Second)); got != "Up 5 seconds" {
		t.Errorf("no healthcheck: %q", got)
	}
	if s.HealthStatus() != containertypes.NoHealthcheck || s.Inspect().Health != nil {
		t.Errorf("no healthcheck: %s %+v", s.HealthStatus(), s.Inspect().Health)
	}
	s.StartHealth()
	for status, want := range map[containertypes.HealthStatus]string{
		containertypes.Starting:  "Up 5 seconds (health: starting)",
		containertypes.Healthy:   "Up 5 seconds (healthy)",
		containertypes.Unhealthy: "Up 5 seconds (unhealthy)",
	} {
		s.Health.Status = status
		if got := s.StringAt(t0.Add(5 * time.Second)); got != want {
			t.Errorf("%s: %q, want %q", status, got, want)
		}
	}
	s.RecordProbe(containertypes.HealthcheckResult{Start: t0, ExitCode: 0, Output: "ok"}, Healthcheck{Retries: 3})
	in := s.Inspect().Health
	in.Log[0].Output = "changed"
	if s.Health.Log[0].Output != "ok" {
		t.Error("inspect shares the log with the state")
	}
	if err := s.SetExited(0, t0.Add(time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if got := s.StringAt(t0.Add(2 * time.Minute)); got != "Exited (0) About a minute ago" {
		t.Errorf("exited: %q", got)
	}

	// the state round-trips through the record on disk
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(back.Health, s.Health) {
		t.Errorf("persisted health %+v, want %+v (%v)", back.Health, s.Health, err)
	}
}

func TestProbeOutput(t *testing.T) {
	var o ProbeOutput
	if n, _ := o.Write([]byte("hi\n")); n != 3 || o.String() != "hi\n" {
		t.Fatalf("short output %q", o.String())
	}
	big := strings.Repeat("a", MaxProbeOutput)
	if n, _ := o.Write([]byte(big)); n != len(big) {
		t.Errorf("Write took %d of %d", n, len(big))
	}
	if got := o.String(); len(got) != MaxProbeOutput+3 || !strings.HasPrefix(got, "hi\na") || !strings.HasSuffix(got, "a...") {
		t.Errorf("long output %d bytes, ends %q", len(got), got[len(got)-6:])
	}
	var exact ProbeOutput
	_, _ = exact.Write([]byte(big))
	if exact.String() != big {
		t.Error("output of exactly the limit is marked cut")
	}
}
