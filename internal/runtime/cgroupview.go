package runtime

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Why crun needs a view of the host's cgroups of its own (see
// cgroupview_linux.go): crun (1.8.1, and its master branch since 0.4)
// refuses a hybrid host whose cgroup v2 hierarchy holds any controller
// ("cgroups in hybrid mode not supported, drop all controllers from
// cgroupv2", libcrun_cgroup_enter), and it checks this before it looks at
// its cgroup manager, so `--cgroup-manager=disabled` is refused too. A
// hybrid host where the v2 mount holds a controller that no v1 hierarchy
// took (hugetlb here) is common. crun decides the mode from statfs of
// /sys/fs/cgroup and /sys/fs/cgroup/unified; where the second is not
// mounted it is a plain v1 host, which crun supports fully. So berth runs
// crun in a mount namespace of its own where /sys/fs/cgroup/unified is
// unmounted: the container gets every v1 controller exactly as under runc,
// and only misses the v2 cgroup that runc also makes (one without
// controllers to enable, which berth never reads: its stats, limits and
// kills use the v1 ones).

// isCrun reports whether the runtime binary is crun, by its name.
func isCrun(path string) bool {
	return strings.HasPrefix(filepath.Base(path), "crun")
}

// needsV1View reports whether r must run with the v2 mount of a hybrid
// host hidden: crun on a hybrid host whose v2 hierarchy holds controllers.
func (r *Runtime) needsV1View() bool {
	return isCrun(r.binary()) && hybridWithV2Controllers()
}

// runCmd runs cmd as Run does, in the cgroup view the runtime needs, its
// pid recorded while it runs (Invoked).
func (r *Runtime) runCmd(cmd *exec.Cmd) error {
	start := (*exec.Cmd).Start
	if r.needsV1View() {
		start = startInV1View
	}
	if err := recordStart(cmd, start); err != nil {
		return err
	}
	defer forget(cmd)
	return cmd.Wait()
}

// invocations are the runtime processes this process started and has not
// waited for yet; the lock is held from before a start until the pid is
// recorded, so a reaper that holds it never sees one unrecorded.
var invocations struct {
	sync.Mutex
	pids map[int]bool
}

// Invoked calls reap with a report of whether a pid is a runtime
// invocation of this process still to be waited for, holding off new
// invocations meanwhile: a subreaper (the shim) reaps the runtime's stray
// children with it without stealing the exit of an invocation, which crun
// names as it names its strays ("crun").
func Invoked(reap func(invoked func(pid int) bool)) {
	invocations.Lock()
	defer invocations.Unlock()
	reap(func(pid int) bool { return invocations.pids[pid] })
}

// recordStart starts cmd with start and records its pid until forget.
func recordStart(cmd *exec.Cmd, start func(*exec.Cmd) error) error {
	invocations.Lock()
	defer invocations.Unlock()
	if err := start(cmd); err != nil {
		return err
	}
	if invocations.pids == nil {
		invocations.pids = map[int]bool{}
	}
	invocations.pids[cmd.Process.Pid] = true
	return nil
}

// forget drops the record of cmd once it has been waited for.
func forget(cmd *exec.Cmd) {
	invocations.Lock()
	defer invocations.Unlock()
	delete(invocations.pids, cmd.Process.Pid)
}
