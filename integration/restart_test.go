//go:build linux

package integration

import (
	"strings"
	"testing"
	"time"
)

func TestRestartPolicies(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		// on-failure:2 restarts a failing container twice, then leaves it exited
		failing := unique("onfail")
		rmOnCleanup(t, d, failing)
		c.ok(t, "run", "-d", "--name", failing, "--restart", "on-failure:2", "busybox", "sh", "-c", "echo try; exit 3")
		waitFor(t, 15*time.Second, "two restarts, then exited", func() bool {
			return inspect(t, d, failing, "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}") == "2 exited 3"
		})
		if n := strings.Count(c.ok(t, "logs", failing), "try"); n != 3 {
			t.Errorf("logs show %d runs, want 3 (the first and two restarts)", n)
		}

		// always brings back a container that exits, but not one the user stops
		always := unique("always")
		rmOnCleanup(t, d, always)
		c.ok(t, "run", "-d", "--name", always, "--restart", "always", "busybox", "sh", "-c", "sleep 0.2")
		waitFor(t, 15*time.Second, "a restart", func() bool {
			return inspect(t, d, always, "{{.RestartCount}}") != "0"
		})
		c.ok(t, "stop", "-t", "1", always)
		time.Sleep(time.Second)
		if got := inspect(t, d, always, "{{.State.Status}}"); got != "exited" {
			t.Errorf("after stop, --restart always container is %q, want exited", got)
		}

		// --rm and --restart do not go together
		c.run(t, "run", "--rm", "--restart", "always", "busybox", "true").Fails(t, 125)
	})
}
