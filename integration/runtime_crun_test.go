package integration

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRuntimeCrun: where crun is installed berthd runs containers under it
// by default (--default-runtime auto), on this host's cgroups whatever
// their layout (crun refuses a hybrid host whose v2 mount holds a
// controller; berth hides that mount from it), with the spec berth writes
// for it: the container is in its cgroup, an unlimited pids limit (which
// crun 1.8 would write as -1) runs, and a failed exec leaves nothing that
// keeps the container from being removed.
func TestRuntimeCrun(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("crun"); err != nil {
		t.Skip("no crun in PATH")
	}
	d := sharedDaemon(t)
	if got := d.Berth(t, "info", "--format", "{{json .Runtimes}}").Success(t).Out(); !strings.Contains(got, "crun") {
		t.Fatalf("berthd does not run containers under crun: runtimes %s", got)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("crun")
		rmOnCleanup(t, d, name)
		out := c.ok(t, "run", "--name", name, "--pids-limit", "0", "busybox", "cat", "/proc/self/cgroup")
		id := inspect(t, d, name, "{{.Id}}")
		if !strings.Contains(out, ":/berth/"+id) {
			t.Errorf("the container is not in its cgroup /berth/%s:\n%s", id, out)
		}
		running := unique("crunexec")
		rmOnCleanup(t, d, running)
		c.ok(t, "run", "-d", "--name", running, "busybox", "sleep", "300")
		c.run(t, "exec", "-w", "/proc/self/fd/3", running, "pwd").Fails(t, 126)
		c.ok(t, "rm", "-f", running)
	})
}
