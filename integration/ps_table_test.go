package integration

import (
	"regexp"
	"strings"
	"testing"

	"github.com/berth-project/berth/internal/testutil"
)

// TestPsTableSameAsDocker checks berth's ps, which reads only its table's
// columns from the list (issue 12), against the docker CLI's on the same
// containers: a published port, an exposed range, an escaped command, a label, a
// running, an exited and a created container; the default table and -s.
func TestPsTableSameAsDocker(t *testing.T) {
	t.Parallel()
	testutil.RequiresDockerCLI(t)
	d := sharedDaemon(t)
	c := cli{name: "berth", d: d}
	prefix := unique("pstable")
	c.ok(t, "run", "-d", "--name", prefix+"-up", "-l", "tier=x", "-p", "127.0.0.1::80", "--expose", "7000-7001/udp",
		"busybox", "sh", "-c", `echo "a\tb"; sleep 300`)
	rmOnCleanup(t, d, prefix+"-up")
	c.run(t, "run", "--name", prefix+"-exited", "busybox", "sh", "-c", "exit 3")
	rmOnCleanup(t, d, prefix+"-exited")
	c.ok(t, "create", "--name", prefix+"-created", "busybox", "echo", "é")
	rmOnCleanup(t, d, prefix+"-created")

	// "Up 2 seconds" may turn into "Up 3 seconds" between the two runs, and
	// a column's padding with it
	seconds := regexp.MustCompile(`(About a minute|Less than a second|[0-9]+ seconds?)`)
	cells := func(out string) string {
		out = seconds.ReplaceAllString(out, "N seconds")
		return strings.Join(strings.Fields(strings.ReplaceAll(out, "\n", " | ")), " ")
	}
	for _, args := range [][]string{
		{"ps", "-a", "--filter", "name=" + prefix},
		{"ps", "-a", "-s", "--filter", "name=" + prefix},
		{"ps", "-a", "--no-trunc", "--filter", "name=" + prefix},
	} {
		berth := cells(d.Berth(t, args...).Success(t).Stdout)
		docker := cells(d.Docker(t, args...).Success(t).Stdout)
		if berth != docker {
			t.Errorf("%q:\nberth:\n%s\ndocker:\n%s", args, berth, docker)
		}
	}
}
