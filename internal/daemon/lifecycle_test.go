package daemon

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/runtime"
)

var bg = context.Background()

func TestStartLaunchesShimWithContainerConfig(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) {
		r.Config.Tty, r.Config.OpenStdin = true, true
		r.Config.Cmd = []string{"echo", "hi"}
	})
	starts := e.launcher.Starts()
	if len(starts) != 1 {
		t.Fatalf("%d shim starts, want 1", len(starts))
	}
	cfg := starts[0]
	if cfg.ID != id || !cfg.Tty || !cfg.OpenStdin || !cfg.StartNow || cfg.Runtime != "runc" || cfg.LogPath == "" {
		t.Errorf("shim config %+v does not carry the container's", cfg)
	}
	if args := e.spec(t, id).Process.Args; !slices.Equal(args, []string{"echo", "hi"}) {
		t.Errorf("OCI spec args %v, want [echo hi]", args)
	}
	if !e.mounter.isMounted(filepath.Join(cfg.Bundle, "rootfs")) {
		t.Error("the rootfs is not mounted in the bundle")
	}
	st := e.state(t, id)
	if st.Status != containertypes.StateRunning || st.Pid != e.shim(id).Pid() {
		t.Errorf("state %s pid %d, want running with the shim's pid %d", st.Status, st.Pid, e.shim(id).Pid())
	}
	if saved := e.saved(t, id); saved.State.Status != containertypes.StateRunning {
		t.Errorf("record on disk says %s, want running", saved.State.Status)
	}
}

func TestStartRunningContainerIsNotModified(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	wantClass(t, "second start", e.d.ContainerStart(bg, id, ""), errdefs.IsNotModified, "not modified")
	if n := len(e.launcher.Starts()); n != 1 {
		t.Errorf("%d shim starts, want 1", n)
	}
}

func TestStartUnknownContainerIsNotFound(t *testing.T) {
	e := newEnv(t)
	wantClass(t, "start nosuch", e.d.ContainerStart(bg, "nosuch", ""), errdefs.IsNotFound, "not found")
}

func TestStartPausedContainerIsConflict(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	c, _ := e.d.lookup(id)
	c.Lock()
	_ = c.State.SetPaused()
	c.Unlock()
	wantClass(t, "start paused", e.d.ContainerStart(bg, id, ""), errdefs.IsConflict, "conflict")
}

func TestStartFailureRecordsErrorAndExitCode(t *testing.T) {
	for _, tc := range []struct {
		err   error
		code  int
		is    func(error) bool
		class string
	}{
		{&runtime.ExecError{Failure: runtime.CommandNotFound, Msg: `exec: "nosuch": executable file not found in $PATH`}, 127, errdefs.IsInvalidArgument, "invalid argument (400)"},
		{&runtime.ExecError{Failure: runtime.CommandNotInvocable, Msg: `exec: "/etc": permission denied`}, 126, errdefs.IsInvalidArgument, "invalid argument (400)"},
		{errors.New("cgroup trouble"), 128, errdefs.IsUnknown, "unknown (500)"},
	} {
		e := newEnv(t)
		e.launcher.StartErr = tc.err
		id := e.create(t, "web", nil)
		err := e.d.ContainerStart(bg, id, "")
		msg := tc.err.Error()
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Fatalf("start error %v, want the runtime's message", err)
		}
		wantClass(t, msg, err, tc.is, tc.class)
		st := e.state(t, id)
		if st.Status != containertypes.StateCreated || st.ExitCode != tc.code || !strings.Contains(st.Error, msg) {
			t.Errorf("%s: state %s, exit %d, error %q; want created, %d and the message", msg, st.Status, st.ExitCode, st.Error, tc.code)
		}
		if _, err := os.Stat(e.d.containerStateDir(id)); !os.IsNotExist(err) {
			t.Errorf("the bundle of a failed start is left behind (%v)", err)
		}
	}
}

func TestStartFailureRemovesAutoRemoveContainer(t *testing.T) {
	e := newEnv(t)
	e.launcher.StartErr = errors.New("boom")
	id := e.create(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.AutoRemove = true })
	if err := e.d.ContainerStart(bg, id, ""); err == nil {
		t.Fatal("start succeeded")
	}
	_, err := e.d.ContainerInspect(bg, id, false)
	wantClass(t, "inspect after a failed --rm start", err, errdefs.IsNotFound, "not found")
	if !slices.Contains(e.images.removedRootfs(), id) {
		t.Error("the rw layer of the removed container is left")
	}
}

func TestStartRootfsFailureStartsNoShim(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	e.images.prepareErr = errdefs.ErrNotFound.WithMessage("layer gone")
	wantClass(t, "start without a rootfs", e.d.ContainerStart(bg, id, ""), errdefs.IsNotFound, "not found")
	if n := len(e.launcher.Starts()); n != 0 {
		t.Errorf("%d shim starts, want none", n)
	}
}

func TestStopUsesContainerStopSignal(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) { r.Config.StopSignal = "SIGUSR1" })
	notRunning, err := e.d.ContainerStop(bg, id, "", intp(1))
	if err != nil || notRunning {
		t.Fatalf("stop: %v, not running %v", err, notRunning)
	}
	if got := e.shim(id).Signals(); !slices.Equal(got, []syscall.Signal{syscall.SIGUSR1}) {
		t.Errorf("signals %v, want [SIGUSR1]", got)
	}
	if st := e.state(t, id); st.Status != containertypes.StateExited || st.ExitCode != 128+int(syscall.SIGUSR1) {
		t.Errorf("after stop: %s %d, want exited %d", st.Status, st.ExitCode, 128+int(syscall.SIGUSR1))
	}
}

func TestStopKillsAfterTimeout(t *testing.T) {
	e := newEnv(t)
	e.launcher.Ignore = []syscall.Signal{syscall.SIGTERM}
	id := e.run(t, "web", nil)
	if _, err := e.d.ContainerStop(bg, id, "", intp(0)); err != nil {
		t.Fatal(err)
	}
	if got := e.shim(id).Signals(); !slices.Equal(got, []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL}) {
		t.Errorf("signals %v, want [SIGTERM SIGKILL]", got)
	}
	if st := e.state(t, id); st.ExitCode != 137 {
		t.Errorf("exit code %d, want 137", st.ExitCode)
	}
}

func TestStopReturnsOnceEndpointsAreReleased(t *testing.T) {
	e := newEnv(t)
	e.nets.releaseDelay = 200 * time.Millisecond
	id := e.run(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.NetworkMode = "back" })
	if _, err := e.d.ContainerStop(bg, id, "", intp(1)); err != nil {
		t.Fatal(err)
	}
	e.nets.mu.Lock()
	released := slices.Clone(e.nets.released)
	e.nets.mu.Unlock()
	if !slices.Contains(released, id) {
		t.Error("stop returned before the container's endpoints were released (a new container on its address would fail)")
	}
}

func TestStopStoppedContainerIsNotModified(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	notRunning, err := e.d.ContainerStop(bg, id, "", nil)
	if err != nil || !notRunning {
		t.Errorf("stop of a created container: %v, not running %v; want docker's 304", err, notRunning)
	}
}

func TestStopInvalidSignalIsInvalidArgument(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	_, err := e.d.ContainerStop(bg, id, "SIGNOPE", nil)
	wantClass(t, "stop -s SIGNOPE", err, errdefs.IsInvalidArgument, "invalid argument")
	if len(e.shim(id).Signals()) != 0 || e.state(t, id).Status != containertypes.StateRunning {
		t.Error("a refused stop touched the container")
	}
}

func TestStopOverridesRestartPolicy(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) {
		r.HostConfig.RestartPolicy.Name = containertypes.RestartPolicyAlways
	})
	if _, err := e.d.ContainerStop(bg, id, "", intp(1)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past the first restart delay
	if n := len(e.launcher.Starts()); n != 1 {
		t.Errorf("%d starts, want 1: a stopped container stays down", n)
	}
	if st := e.state(t, id); st.Status != containertypes.StateExited {
		t.Errorf("status %s, want exited", st.Status)
	}
}

func TestKillDefaultsToSIGKILL(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	if err := e.d.ContainerKill(bg, id, ""); err != nil {
		t.Fatal(err)
	}
	if got := e.shim(id).Signals(); !slices.Equal(got, []syscall.Signal{syscall.SIGKILL}) {
		t.Errorf("signals %v, want [SIGKILL]", got)
	}
	// docker returns once a SIGKILLed container is recorded as exited
	if st := e.state(t, id); st.Status != containertypes.StateExited || st.ExitCode != 137 {
		t.Errorf("after kill: %s %d, want exited 137", st.Status, st.ExitCode)
	}
}

func TestKillWithHarmlessSignalKeepsRunning(t *testing.T) {
	e := newEnv(t)
	e.launcher.Ignore = []syscall.Signal{syscall.SIGHUP}
	id := e.run(t, "web", nil)
	if err := e.d.ContainerKill(bg, id, "HUP"); err != nil {
		t.Fatal(err)
	}
	if got := e.shim(id).Signals(); !slices.Equal(got, []syscall.Signal{syscall.SIGHUP}) {
		t.Errorf("signals %v, want [SIGHUP]", got)
	}
	if st := e.state(t, id); st.Status != containertypes.StateRunning {
		t.Errorf("status %s, want running", st.Status)
	}
	if e.saved(t, id).ManuallyStopped {
		t.Error("SIGHUP counted as a manual stop")
	}
}

func TestKillStoppedContainerIsConflict(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	err := e.d.ContainerKill(bg, "web", "")
	wantClass(t, "kill created", err, errdefs.IsConflict, "conflict")
	if want := "cannot kill container: web: container " + id + " is not running"; err == nil || err.Error() != want {
		t.Errorf("message %q, want docker's %q", err, want)
	}
}

func TestKillInvalidSignalIsInvalidArgument(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	wantClass(t, "kill -s 99", e.d.ContainerKill(bg, id, "99"), errdefs.IsInvalidArgument, "invalid argument")
}

func TestRestartStopsThenStarts(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	first := e.shim(id)
	if err := e.d.ContainerRestart(bg, id, "", intp(1)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first.Signals(), []syscall.Signal{syscall.SIGTERM}) || !first.Exited() {
		t.Errorf("first run got %v, want SIGTERM and an exit", first.Signals())
	}
	if n := len(e.launcher.Starts()); n != 2 {
		t.Errorf("%d starts, want 2", n)
	}
	if st := e.state(t, id); st.Status != containertypes.StateRunning || st.Pid != e.shim(id).Pid() || st.Pid == first.Pid() {
		t.Errorf("after restart: %s pid %d, want running in a new process", st.Status, st.Pid)
	}
}

// TestInspectWaitsOutARestart: an inspect that a restart's die prompts
// (Compose's `up` asks whether the container it follows comes back) shows
// the restarted container, not the moment between the stop and the start.
func TestInspectWaitsOutARestart(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	first := e.shim(id).Pid()
	e.launcher.StartDelay = 200 * time.Millisecond
	_, sub := e.d.SubscribeEvents(bg, time.Time{}, time.Time{}, backend.Filters{"event": {"die"}})
	defer sub.Close()
	restarted := make(chan error, 1)
	go func() { restarted <- e.d.ContainerRestart(bg, id, "", intp(1)) }()
	if _, err := sub.Next(bg); err != nil {
		t.Fatal(err)
	}
	resp, err := e.d.ContainerInspect(bg, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.State.Running || resp.State.Pid == first {
		t.Errorf("inspect on the restart's die: running %v pid %d (first %d), want running in the new process", resp.State.Running, resp.State.Pid, first)
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	// with no restart under way, an exited container is inspected at once
	e.shim(id).Exit(0)
	eventually(t, "the exit", func() bool { return e.state(t, id).Status == containertypes.StateExited })
	if resp, err := e.d.ContainerInspect(bg, id, false); err != nil || resp.State.Running {
		t.Errorf("inspect after an exit: %v, %v", resp.State, err)
	}
}

func TestRestartStartsStoppedContainer(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	if err := e.d.ContainerRestart(bg, id, "", nil); err != nil {
		t.Fatal(err)
	}
	if st := e.state(t, id); st.Status != containertypes.StateRunning {
		t.Errorf("status %s, want running", st.Status)
	}
}

func TestRemoveDeletesRecordAndFiles(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	e.shim(id).Exit(0)
	eventually(t, "the exit", func() bool { return e.state(t, id).Status == containertypes.StateExited })
	if err := e.d.ContainerRemove(bg, "web", false, false, false); err != nil {
		t.Fatal(err)
	}
	_, err := e.d.ContainerInspect(bg, id, false)
	wantClass(t, "inspect removed", err, errdefs.IsNotFound, "not found")
	if _, err := os.Stat(e.d.containerDataDir(id)); !os.IsNotExist(err) {
		t.Errorf("the container's data folder is left (%v)", err)
	}
	if !slices.Contains(e.images.removedRootfs(), id) {
		t.Error("the rw layer is left")
	}
	// the name is free again
	e.create(t, "web", nil)
}

func TestRemoveRunningWithoutForceIsConflict(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	wantClass(t, "rm running", e.d.ContainerRemove(bg, id, false, false, false), errdefs.IsConflict, "conflict")
	if e.state(t, id).Status != containertypes.StateRunning || len(e.shim(id).Signals()) != 0 {
		t.Error("a refused rm touched the container")
	}
}

func TestRemoveForceKillsWithoutRestarting(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) {
		r.HostConfig.RestartPolicy.Name = containertypes.RestartPolicyAlways
	})
	sh := e.shim(id)
	if err := e.d.ContainerRemove(bg, id, true, false, false); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sh.Signals(), []syscall.Signal{syscall.SIGKILL}) {
		t.Errorf("signals %v, want [SIGKILL]", sh.Signals())
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(e.launcher.Starts()); n != 1 {
		t.Errorf("%d starts, want 1: a removed container is not restarted", n)
	}
	if _, err := e.d.ContainerInspect(bg, id, false); !errdefs.IsNotFound(err) {
		t.Errorf("inspect after rm -f: %v", err)
	}
}

func TestRemoveUnknownIsNotFound(t *testing.T) {
	e := newEnv(t)
	wantClass(t, "rm nosuch", e.d.ContainerRemove(bg, "nosuch", true, false, false), errdefs.IsNotFound, "not found")
}

func TestRemoveLinkKeepsContainers(t *testing.T) {
	e := newEnv(t)
	db := e.run(t, "db", nil)
	web := e.create(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.Links = []string{"db:database", "cache"} })
	if err := e.d.ContainerRemove(bg, "/web/database", false, false, true); err != nil {
		t.Fatal(err)
	}
	if links := e.saved(t, web).HostConfig.Links; !slices.Equal(links, []string{"cache"}) {
		t.Errorf("links on disk %v, want [cache]", links)
	}
	if err := e.d.ContainerRemove(bg, "web/cache", false, false, true); err != nil {
		t.Errorf("a link without an alias is named after its container: %v", err)
	}
	if st := e.state(t, db); st.Status != containertypes.StateRunning {
		t.Errorf("the linked container is %s, want running", st.Status)
	}
}

func TestRemoveLinkErrors(t *testing.T) {
	e := newEnv(t)
	e.create(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.Links = []string{"db:database"} })
	for _, tc := range []struct {
		name  string
		is    func(error) bool
		class string
	}{
		{"/web", errdefs.IsInvalidArgument, "invalid argument"},
		{"/nosuch/database", errdefs.IsNotFound, "not found"},
		{"/web/nosuch", errdefs.IsNotFound, "not found"},
	} {
		wantClass(t, "rm --link "+tc.name, e.d.ContainerRemove(bg, tc.name, false, false, true), tc.is, tc.class)
	}
}

func TestRenameRules(t *testing.T) {
	e := newEnv(t)
	e.create(t, "web", nil)
	e.create(t, "db", nil)
	for _, tc := range []struct {
		old, new string
		is       func(error) bool
		class    string
	}{
		{"web", "db", errdefs.IsConflict, "conflict"},
		{"web", "web", errdefs.IsInvalidArgument, "invalid argument"},
		{"web", "", errdefs.IsInvalidArgument, "invalid argument"},
		{"nosuch", "x", errdefs.IsNotFound, "not found"},
	} {
		wantClass(t, "rename "+tc.old+" "+tc.new, e.d.ContainerRename(bg, tc.old, tc.new), tc.is, tc.class)
	}
}

func TestRenameRunningRenamesEndpoints(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.NetworkMode = "back" })
	if err := e.d.ContainerRename(bg, "web", "front"); err != nil {
		t.Fatal(err)
	}
	e.nets.mu.Lock()
	defer e.nets.mu.Unlock()
	if !slices.Contains(e.nets.renamed, id+"=front") {
		t.Errorf("endpoint renames %v, want %s=front (the DNS answers the new name)", e.nets.renamed, id)
	}
}

func TestRenamePersists(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	if err := e.d.ContainerRename(bg, "web", "front"); err != nil {
		t.Fatal(err)
	}
	e.reopen(t)
	c, err := e.d.lookup("front")
	if err != nil || c.ID != id {
		t.Fatalf("after a daemon restart, front is %v (%v), want %s", c, err, id)
	}
	if _, err := e.d.lookup("web"); !errdefs.IsNotFound(err) {
		t.Errorf("the old name still resolves: %v", err)
	}
}

// waitResult waits for a ContainerWait answer, failing t after 5s.
func waitResult(t *testing.T, ch <-chan containertypes.WaitResponse) containertypes.WaitResponse {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("wait ended without a result")
		}
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return")
	}
	return containertypes.WaitResponse{}
}

// notYet fails t if ch delivers within a short while.
func notYet(t *testing.T, ch <-chan containertypes.WaitResponse) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("wait returned %+v too early", r)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestWaitNotRunningReturnsAtOnce(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	e.shim(id).Exit(3)
	eventually(t, "the exit", func() bool { return e.state(t, id).Status == containertypes.StateExited })
	ch, err := e.d.ContainerWait(bg, id, containertypes.WaitConditionNotRunning)
	if err != nil {
		t.Fatal(err)
	}
	if r := waitResult(t, ch); r.StatusCode != 3 {
		t.Errorf("status %d, want 3", r.StatusCode)
	}
}

func TestWaitNextExitWaitsForTheRun(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	ch, err := e.d.ContainerWait(bg, id, containertypes.WaitConditionNextExit)
	if err != nil {
		t.Fatal(err)
	}
	notYet(t, ch)
	if err := e.d.ContainerStart(bg, id, ""); err != nil {
		t.Fatal(err)
	}
	notYet(t, ch)
	e.shim(id).Exit(5)
	if r := waitResult(t, ch); r.StatusCode != 5 {
		t.Errorf("status %d, want 5", r.StatusCode)
	}
}

func TestWaitRemovedWaitsForRemoval(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	ch, err := e.d.ContainerWait(bg, id, containertypes.WaitConditionRemoved)
	if err != nil {
		t.Fatal(err)
	}
	notYet(t, ch)
	if err := e.d.ContainerRemove(bg, id, false, false, false); err != nil {
		t.Fatal(err)
	}
	waitResult(t, ch)
}

// A waiter for the removal that woke for the start, and next reads the
// container once it has exited and been removed (a short run --rm on a busy
// host), reports the exit, not the start's state.
func TestWaitRemovedReportsTheExitNotTheStart(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	ch, err := e.d.ContainerWait(bg, id, containertypes.WaitConditionRemoved)
	if err != nil {
		t.Fatal(err)
	}
	notYet(t, ch)
	c, _ := e.d.lookup(id)
	c.Lock()
	running := c.State
	e.d.notify(id, &running)
	time.Sleep(50 * time.Millisecond) // the waiter wakes and waits for the lock
	if err := c.State.SetExited(7, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	e.d.containers.Delete(id)
	c.Unlock()
	e.d.notify(id, nil)
	if r := waitResult(t, ch); r.StatusCode != 7 {
		t.Errorf("status %d, want 7 (the exit before the removal)", r.StatusCode)
	}
}

func TestWaitReturnsExitOfRestartedContainer(t *testing.T) {
	for _, cond := range []containertypes.WaitCondition{containertypes.WaitConditionNotRunning, containertypes.WaitConditionNextExit} {
		e := newEnv(t)
		id := e.run(t, "web", func(r *containertypes.CreateRequest) {
			r.HostConfig.RestartPolicy.Name = containertypes.RestartPolicyAlways
		})
		ch, err := e.d.ContainerWait(bg, id, cond)
		if err != nil {
			t.Fatal(err)
		}
		e.shim(id).Exit(3)
		if r := waitResult(t, ch); r.StatusCode != 3 {
			t.Errorf("%s: status %d, want 3 (the run that ended)", cond, r.StatusCode)
		}
		eventually(t, "the restart", func() bool { return len(e.launcher.Starts()) == 2 })
	}
}

func TestWaitAcrossRestartReturnsStoppedRunsCode(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	ch, err := e.d.ContainerWait(bg, id, containertypes.WaitConditionNotRunning)
	if err != nil {
		t.Fatal(err)
	}
	notYet(t, ch)
	// the restart's start holds the container while the waiter would read it
	e.images.onPrepare = func() { time.Sleep(100 * time.Millisecond) }
	if err := e.d.ContainerRestart(bg, id, "", intp(1)); err != nil {
		t.Fatal(err)
	}
	if r := waitResult(t, ch); r.StatusCode != 143 {
		t.Errorf("wait across a restart: status %d, want 143 (the SIGTERMed run's)", r.StatusCode)
	}
}

func TestWaitSeesExitAlreadyReplacedByRestart(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	ch, err := e.d.ContainerWait(bg, id, containertypes.WaitConditionNotRunning)
	if err != nil {
		t.Fatal(err)
	}
	notYet(t, ch)
	// an exit whose restart reached the record before the waiter read it
	c, _ := e.d.lookup(id)
	c.Lock()
	exit := c.State
	c.Unlock()
	if err := exit.SetRestarting(3, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.d.notify(id, &exit)
	if r := waitResult(t, ch); r.StatusCode != 3 {
		t.Errorf("status %d, want 3", r.StatusCode)
	}
}

func TestWaitUnknownIsNotFound(t *testing.T) {
	e := newEnv(t)
	_, err := e.d.ContainerWait(bg, "nosuch", "")
	wantClass(t, "wait nosuch", err, errdefs.IsNotFound, "not found")
}

func TestOnFailurePolicyRestartsUpToMax(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) {
		r.HostConfig.RestartPolicy = containertypes.RestartPolicy{Name: containertypes.RestartPolicyOnFailure, MaximumRetryCount: 2}
	})
	for run := 1; run <= 3; run++ {
		eventually(t, "a run", func() bool {
			return len(e.launcher.Starts()) == run && e.state(t, id).Status == containertypes.StateRunning
		})
		e.shim(id).Exit(1)
	}
	eventually(t, "exited for good", func() bool { return e.state(t, id).Status == containertypes.StateExited })
	if c := e.saved(t, id); c.RestartCount != 2 || c.State.ExitCode != 1 {
		t.Errorf("RestartCount %d, exit %d; want 2 and 1", c.RestartCount, c.State.ExitCode)
	}
}

// docker run --rm waits for the removal before it starts the container;
// when the start fails and the container is removed, the wait carries no
// error (dockerd's removal clears it), or the CLI prints it a second time.
func TestWaitRemovedAfterFailedStartHasNoError(t *testing.T) {
	e := newEnv(t)
	e.launcher.StartErr = errors.New("boom")
	id := e.create(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.AutoRemove = true })
	ch, err := e.d.ContainerWait(bg, id, containertypes.WaitConditionRemoved)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.d.ContainerStart(bg, id, ""); err == nil {
		t.Fatal("start succeeded")
	}
	if r := waitResult(t, ch); r.Error != nil {
		t.Errorf("wait for the removal: error %q, want none", r.Error.Message)
	}
}

func TestAutoRemoveAfterExit(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", func(r *containertypes.CreateRequest) { r.HostConfig.AutoRemove = true })
	ch, err := e.d.ContainerWait(bg, id, containertypes.WaitConditionRemoved)
	if err != nil {
		t.Fatal(err)
	}
	e.shim(id).Exit(4)
	if r := waitResult(t, ch); r.StatusCode != 4 {
		t.Errorf("status %d, want 4", r.StatusCode)
	}
	if _, err := os.Stat(e.d.containerDataDir(id)); !os.IsNotExist(err) {
		t.Errorf("the --rm container's files are left (%v)", err)
	}
}

func TestCloseLeavesContainersRunning(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	if err := e.d.Close(); err != nil {
		t.Fatal(err)
	}
	if sh := e.shim(id); sh.Exited() || sh.ShutDown() || len(sh.Signals()) > 0 {
		t.Error("closing the daemon touched its container")
	}
}

func TestNewRequiresEveryPart(t *testing.T) {
	_, err := New(bg, Config{DataRoot: t.TempDir(), ExecRoot: t.TempDir()}, Parts{})
	wantClass(t, "New without parts", err, errdefs.IsInvalidArgument, "invalid argument")
}

func TestResize(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", func(r *containertypes.CreateRequest) { r.Config.Tty = true })
	wantClass(t, "resize created", e.d.ContainerResize(bg, id, 24, 80), errdefs.IsConflict, "conflict")
	if err := e.d.ContainerStart(bg, id, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.d.ContainerResize(bg, id, 24, 80); err != nil {
		t.Fatal(err)
	}
	if got := e.shim(id).Sizes(); !slices.Equal(got, [][2]uint16{{80, 24}}) {
		t.Errorf("sizes %v, want [[80 24]] (width, height)", got)
	}
}

func TestUnknownContainerIsNotFoundEverywhere(t *testing.T) {
	e := newEnv(t)
	ops := map[string]func() error{
		"start":   func() error { return e.d.ContainerStart(bg, "nosuch", "") },
		"stop":    func() error { _, err := e.d.ContainerStop(bg, "nosuch", "", nil); return err },
		"restart": func() error { return e.d.ContainerRestart(bg, "nosuch", "", nil) },
		"kill":    func() error { return e.d.ContainerKill(bg, "nosuch", "") },
		"rm":      func() error { return e.d.ContainerRemove(bg, "nosuch", true, false, false) },
		"rename":  func() error { return e.d.ContainerRename(bg, "nosuch", "other") },
		"wait":    func() error { _, err := e.d.ContainerWait(bg, "nosuch", ""); return err },
		"resize":  func() error { return e.d.ContainerResize(bg, "nosuch", 24, 80) },
		"attach": func() error {
			return e.d.ContainerAttach(bg, "nosuch", attachOpts(io.Discard, io.Discard, true, false))
		},
		"logs": func() error {
			_, _, err := e.d.ContainerLogs(bg, "nosuch", backend.LogsOptions{Stdout: true})
			return err
		},
		"inspect": func() error { _, err := e.d.ContainerInspect(bg, "nosuch", false); return err },
	}
	for name, op := range ops {
		wantClass(t, name+" nosuch", op(), errdefs.IsNotFound, "not found (404)")
	}
}

func TestStartRemovingContainerIsConflict(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "web", nil)
	c, _ := e.d.lookup(id)
	c.Lock()
	_ = c.State.SetRemoving()
	c.Unlock()
	wantClass(t, "start a container being removed", e.d.ContainerStart(bg, id, ""), errdefs.IsConflict, "conflict (409)")
	wantClass(t, "rm a container being removed", e.d.ContainerRemove(bg, id, false, false, false), errdefs.IsConflict, "conflict (409)")
}

func TestRemoveMovesTheFolderIntoTheTrash(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, "web", nil)
	// a file of the rw layer, which the trash deletes in the background
	if err := os.WriteFile(filepath.Join(e.d.containerDataDir(id), "upper-file"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.shim(id).Exit(0)
	eventually(t, "the exit", func() bool { return e.state(t, id).Status == containertypes.StateExited })
	if err := e.d.ContainerRemove(bg, "web", false, false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.d.containerDataDir(id)); !os.IsNotExist(err) {
		t.Errorf("the container's data folder is left (%v)", err)
	}
	if _, err := os.Stat(e.d.trashDir()); err != nil {
		t.Errorf("the folder did not go through the trash: %v", err)
	}
	eventually(t, "the trash emptied", func() bool {
		_, err := os.Stat(filepath.Join(e.d.trashDir(), id))
		return os.IsNotExist(err)
	})
}

func TestBootEmptiesTheTrash(t *testing.T) {
	e := newEnv(t)
	left := filepath.Join(e.d.trashDir(), "0123", "rw", "upper")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	e.d.emptyTrash()
	eventually(t, "the trash emptied", func() bool {
		entries, err := os.ReadDir(e.d.trashDir())
		return err == nil && len(entries) == 0
	})
}
