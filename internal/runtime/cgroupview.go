package runtime

import (
	"os/exec"
	"path/filepath"
	"strings"
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

// runCmd runs cmd as Run does, in the cgroup view the runtime needs.
func (r *Runtime) runCmd(cmd *exec.Cmd) error {
	if err := r.startCmd(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// startCmd starts cmd as Start does, in the cgroup view the runtime needs.
func (r *Runtime) startCmd(cmd *exec.Cmd) error {
	if !r.needsV1View() {
		return cmd.Start()
	}
	return startInV1View(cmd)
}
