package daemon

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestPauseUnpauseStates(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	if err := e.d.ContainerPause(bg, "web"); err != nil {
		t.Fatal(err)
	}
	if !e.shim(id).Paused() {
		t.Error("the shim was not asked to pause")
	}
	if st := e.state(t, id); st.Status != containertypes.StatePaused || !st.Paused || !st.Running {
		t.Errorf("after pause: %+v", st)
	}
	if e.saved(t, id).State.Status != containertypes.StatePaused {
		t.Error("paused state not persisted")
	}
	err := e.d.ContainerPause(bg, "web")
	wantClass(t, "pause twice", err, errdefs.IsConflict, "conflict")
	if err == nil || err.Error() != "Container "+id+" is already paused" {
		t.Errorf("pause twice: %v", err)
	}
	_, err = e.d.ContainerExecCreate(bg, "web", &containertypes.ExecCreateRequest{Cmd: []string{"true"}})
	wantClass(t, "exec in a paused container", err, errdefs.IsConflict, "conflict")

	if err := e.d.ContainerUnpause(bg, "web"); err != nil {
		t.Fatal(err)
	}
	if st := e.state(t, id); st.Status != containertypes.StateRunning || st.Paused {
		t.Errorf("after unpause: %+v", st)
	}
	err = e.d.ContainerUnpause(bg, "web")
	if err == nil || err.Error() != "Container "+id+" is not paused" || !errdefs.IsConflict(err) {
		t.Errorf("unpause of a running container: %v", err)
	}

	created := e.create(t, "idle", nil)
	err = e.d.ContainerPause(bg, "idle")
	if err == nil || err.Error() != "Container "+created+" is not running" || !errdefs.IsConflict(err) {
		t.Errorf("pause of a created container: %v", err)
	}
	wantClass(t, "pause of an unknown container", e.d.ContainerPause(bg, "nope"), errdefs.IsNotFound, "not found")
}

// A signal thaws a paused container (the shim resumes it), as in docker: a
// harmless one leaves it running, SIGKILL ends it.
func TestKillPausedContainer(t *testing.T) {
	e := newEnv(t)
	e.launcher.Ignore = []syscall.Signal{syscall.SIGHUP}
	id := e.run(t, "web", nil)
	if err := e.d.ContainerPause(bg, id); err != nil {
		t.Fatal(err)
	}
	if err := e.d.ContainerKill(bg, id, "HUP"); err != nil {
		t.Fatal(err)
	}
	if st := e.state(t, id); st.Status != containertypes.StateRunning {
		t.Errorf("after SIGHUP to a paused container: %s, want running", st.Status)
	}
	if err := e.d.ContainerPause(bg, id); err != nil {
		t.Fatal(err)
	}
	if err := e.d.ContainerKill(bg, id, ""); err != nil {
		t.Fatal(err)
	}
	if st := e.state(t, id); st.Status != containertypes.StateExited || st.ExitCode != 137 {
		t.Errorf("after SIGKILL to a paused container: %s %d", st.Status, st.ExitCode)
	}
}

func TestPausedStaysPausedAcrossRestart(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	if err := e.d.ContainerPause(bg, id); err != nil {
		t.Fatal(err)
	}
	e.reopen(t)
	if st := e.state(t, id); st.Status != containertypes.StatePaused {
		t.Errorf("after a daemon restart: %s, want paused", st.Status)
	}
	if err := e.d.ContainerUnpause(bg, id); err != nil {
		t.Errorf("unpause after a restart: %v", err)
	}
}

func TestUpdateRunningContainer(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) {
		r.HostConfig.Memory = 32 << 20
		r.HostConfig.MemorySwap = 64 << 20
	})
	limit := int64(40)
	_, err := e.d.ContainerUpdate(bg, "web", &containertypes.UpdateConfig{
		Resources:     containertypes.Resources{Memory: 48 << 20, PidsLimit: &limit, CPUShares: 512},
		RestartPolicy: containertypes.RestartPolicy{Name: containertypes.RestartPolicyAlways},
	})
	if err != nil {
		t.Fatal(err)
	}
	updates := e.shim(id).Updates()
	if len(updates) != 1 {
		t.Fatalf("%d updates sent to the shim", len(updates))
	}
	var r specs.LinuxResources
	if err := json.Unmarshal(updates[0], &r); err != nil {
		t.Fatal(err)
	}
	if r.Memory == nil || *r.Memory.Limit != 48<<20 || r.Pids == nil || *r.Pids.Limit != 40 || r.CPU == nil || *r.CPU.Shares != 512 {
		t.Errorf("resources sent: %s", updates[0])
	}
	saved := e.saved(t, id)
	if saved.HostConfig.Memory != 48<<20 || saved.HostConfig.MemorySwap != 64<<20 || *saved.HostConfig.PidsLimit != 40 || saved.HostConfig.RestartPolicy.Name != containertypes.RestartPolicyAlways {
		t.Errorf("saved host config: %+v", saved.HostConfig.Resources)
	}

	// refused: nothing reaches the shim, nothing is saved
	_, err = e.d.ContainerUpdate(bg, "web", &containertypes.UpdateConfig{Resources: containertypes.Resources{Memory: 100 << 20}})
	if err == nil || !errdefs.IsInvalidArgument(err) || !strings.HasPrefix(err.Error(), "Cannot update container "+id+": Memory limit should be smaller") {
		t.Errorf("memory above memory-swap: %v", err)
	}
	_, err = e.d.ContainerUpdate(bg, "web", &containertypes.UpdateConfig{Resources: containertypes.Resources{Memory: 1 << 20, MemorySwap: 2 << 20}})
	if err == nil || !errdefs.IsInvalidArgument(err) || err.Error() != "Minimum memory limit allowed is 6MB" {
		t.Errorf("tiny memory: %v", err)
	}
	if len(e.shim(id).Updates()) != 1 || e.saved(t, id).HostConfig.Memory != 48<<20 {
		t.Error("a refused update was applied")
	}
}

func TestUpdateStoppedContainerIsSavedOnly(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "idle", nil)
	if _, err := e.d.ContainerUpdate(bg, "idle", &containertypes.UpdateConfig{Resources: containertypes.Resources{CpusetCpus: "0"}}); err != nil {
		t.Fatal(err)
	}
	if got := e.saved(t, id).HostConfig.CpusetCpus; got != "0" {
		t.Errorf("cpuset %q not saved", got)
	}
}

func TestMergeUpdate(t *testing.T) {
	limit := int64(10)
	tests := []struct {
		name string
		hc   containertypes.HostConfig
		req  containertypes.UpdateConfig
		want string // error; "" for none
		good func(*containertypes.HostConfig) bool
	}{
		{name: "nano cpus over period", hc: containertypes.HostConfig{Resources: containertypes.Resources{CPUPeriod: 1000}},
			req: containertypes.UpdateConfig{Resources: containertypes.Resources{NanoCPUs: 1e9}}, want: "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set"},
		{name: "quota over nano cpus", hc: containertypes.HostConfig{Resources: containertypes.Resources{NanoCPUs: 1e9}},
			req: containertypes.UpdateConfig{Resources: containertypes.Resources{CPUQuota: 1000}}, want: "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"},
		{name: "memory without swap", req: containertypes.UpdateConfig{Resources: containertypes.Resources{Memory: 64 << 20}},
			want: "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"},
		{name: "memory with swap", req: containertypes.UpdateConfig{Resources: containertypes.Resources{Memory: 64 << 20, MemorySwap: -1}},
			good: func(hc *containertypes.HostConfig) bool { return hc.Memory == 64<<20 && hc.MemorySwap == -1 }},
		{name: "memory under swap", hc: containertypes.HostConfig{Resources: containertypes.Resources{Memory: 32 << 20, MemorySwap: 128 << 20}},
			req:  containertypes.UpdateConfig{Resources: containertypes.Resources{Memory: 64 << 20}},
			good: func(hc *containertypes.HostConfig) bool { return hc.Memory == 64<<20 && hc.MemorySwap == 128<<20 }},
		{name: "pids and cpuset", req: containertypes.UpdateConfig{Resources: containertypes.Resources{PidsLimit: &limit, CpusetCpus: "0-1"}},
			good: func(hc *containertypes.HostConfig) bool { return *hc.PidsLimit == 10 && hc.CpusetCpus == "0-1" }},
		{name: "restart with --rm", hc: containertypes.HostConfig{AutoRemove: true},
			req: containertypes.UpdateConfig{RestartPolicy: containertypes.RestartPolicy{Name: containertypes.RestartPolicyAlways}}, want: "Restart policy cannot be updated because AutoRemove is enabled for the container"},
		{name: "bad restart", req: containertypes.UpdateConfig{RestartPolicy: containertypes.RestartPolicy{Name: "sometimes"}}, want: "invalid restart policy"},
		{name: "restart", req: containertypes.UpdateConfig{RestartPolicy: containertypes.RestartPolicy{Name: containertypes.RestartPolicyOnFailure, MaximumRetryCount: 2}},
			good: func(hc *containertypes.HostConfig) bool { return hc.RestartPolicy.MaximumRetryCount == 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := tt.hc
			err := mergeUpdate(&hc, &tt.req)
			switch {
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errdefs.IsInvalidArgument(err)):
				t.Errorf("error %v, want %q (400)", err, tt.want)
			case tt.want == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.good != nil && !tt.good(&hc):
				t.Errorf("merged %+v", hc.Resources)
			}
		})
	}
}

func TestParsePS(t *testing.T) {
	out := []byte(`UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 04:00 ?        00:00:01 /sbin/init
root         100       1  0 04:01 ?        00:00:00 sleep 300 extra args
root         101     100  0 04:01 ?        00:00:00 sh -c echo hi
`)
	top, err := parsePS(out, []int{100, 101})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(top.Titles, []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}) {
		t.Errorf("titles %q", top.Titles)
	}
	if len(top.Processes) != 2 || top.Processes[0][7] != "sleep 300 extra args" || top.Processes[1][1] != "101" {
		t.Errorf("processes %q", top.Processes)
	}
	if _, err := parsePS([]byte("USER COMMAND\nroot init\n"), []int{1}); err == nil || !strings.Contains(err.Error(), "Couldn't find PID field in ps output") {
		t.Errorf("no PID column: %v", err)
	}
	if err := validatePSArgs("-o user=PID"); err == nil || !errdefs.IsInvalidArgument(err) {
		t.Errorf("a column renamed PID: %v", err)
	}
	if err := validatePSArgs("-o pid,comm"); err != nil {
		t.Errorf("-o pid,comm: %v", err)
	}
}

// fakeAccounting answers stats and top from fixed figures.
type fakeAccounting struct {
	mu    sync.Mutex
	usage uint64 // cpu total, grows by 1e6 at each read
	psErr error
}

func (f *fakeAccounting) Stats(ctx context.Context, pid int) (*containertypes.StatsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage += 1e6
	s := &containertypes.StatsResponse{}
	s.CPUStats.CPUUsage.TotalUsage = f.usage
	s.CPUStats.SystemUsage = f.usage * 10
	s.PidsStats.Current = 1
	return s, nil
}

func (f *fakeAccounting) Pids(ctx context.Context, pid int) ([]int, error) { return []int{pid}, nil }

func (f *fakeAccounting) PS(ctx context.Context, args []string, pids []int) ([]byte, error) {
	if f.psErr != nil {
		return nil, f.psErr
	}
	return []byte("PID CMD\n1 init\n" + strconv.Itoa(pids[0]) + " " + strings.Join(args, " ") + "\n"), nil
}

func TestStatsAndTopOverAccounting(t *testing.T) {
	e := newEnv(t)
	acc := &fakeAccounting{}
	e.d.accounting = acc
	id := e.run(t, "web", nil)
	stopped := e.create(t, "idle", nil)

	var got []*containertypes.StatsResponse
	collect := func(s *containertypes.StatsResponse) error { got = append(got, s); return nil }
	if err := e.d.ContainerStats(bg, "web", false, false, collect); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != id || got[0].Name != "/web" || got[0].PreCPUStats.CPUUsage.TotalUsage == 0 ||
		got[0].CPUStats.CPUUsage.TotalUsage <= got[0].PreCPUStats.CPUUsage.TotalUsage || !got[0].Read.After(got[0].PreRead) {
		t.Errorf("stream=false: %+v", got)
	}
	got = nil
	if err := e.d.ContainerStats(bg, "web", false, true, collect); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PreCPUStats.CPUUsage.TotalUsage != 0 || !got[0].PreRead.IsZero() {
		t.Errorf("one-shot: %+v", got)
	}
	got = nil
	if err := e.d.ContainerStats(bg, "idle", false, false, collect); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != stopped || !got[0].Read.IsZero() || got[0].CPUStats.CPUUsage.TotalUsage != 0 {
		t.Errorf("stopped container: %+v", got)
	}
	ctx, cancel := context.WithCancel(bg)
	got = nil
	err := e.d.ContainerStats(ctx, "web", true, false, func(s *containertypes.StatsResponse) error {
		got = append(got, s)
		if len(got) == 2 {
			cancel()
		}
		return nil
	})
	if err != nil || len(got) != 2 || got[1].PreCPUStats.CPUUsage.TotalUsage != got[0].CPUStats.CPUUsage.TotalUsage {
		t.Errorf("stream: %v %+v", err, got)
	}

	pid := e.shim(id).Pid()
	top, err := e.d.ContainerTop(bg, "web", "")
	if err != nil || len(top.Processes) != 1 || top.Processes[0][0] != strconv.Itoa(pid) || top.Processes[0][1] != "-ef" {
		t.Errorf("top: %v %+v", err, top)
	}
	_, err = e.d.ContainerTop(bg, "idle", "")
	if err == nil || err.Error() != "Container "+stopped+" is not running" || !errdefs.IsConflict(err) {
		t.Errorf("top of a stopped container: %v", err)
	}
}
