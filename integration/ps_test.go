//go:build linux

package integration

import (
	"strings"
	"testing"
)

func TestPs(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		prefix := unique("ps")
		up, exited, created := prefix+"-up", prefix+"-exited", prefix+"-created"
		upID := c.ok(t, "run", "-d", "--name", up, "-l", "tier="+prefix, "busybox", "sleep", "300")
		rmOnCleanup(t, d, up)
		c.run(t, "run", "--name", exited, "busybox", "sh", "-c", "exit 3")
		rmOnCleanup(t, d, exited)
		c.ok(t, "create", "--name", created, "busybox", "true")
		rmOnCleanup(t, d, created)

		// default columns, running containers only
		r := c.run(t, "ps", "--filter", "name="+prefix).Success(t)
		rows := lines(r.Stdout)
		if len(rows) != 2 {
			t.Fatalf("ps --filter name=%s: want a header and one row: %s", prefix, r)
		}
		if got := strings.Join(strings.Fields(rows[0]), " "); got != "CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES" {
			t.Errorf("header = %q", rows[0])
		}
		for _, want := range []string{upID[:12], "busybox", `"sleep 300"`, "Up ", up} {
			if !strings.Contains(rows[1], want) {
				t.Errorf("row %q lacks %q", rows[1], want)
			}
		}

		// -a adds stopped and created containers; --format and status strings
		got := lines(c.ok(t, "ps", "-a", "--filter", "name="+prefix, "--format", "{{.Names}} {{.Status}}"))
		if len(got) != 3 {
			t.Fatalf("ps -a --format: want 3 rows, got %q", got)
		}
		statuses := map[string]string{}
		for _, row := range got {
			name, status, _ := strings.Cut(row, " ")
			statuses[name] = status
		}
		if s := statuses[up]; !strings.HasPrefix(s, "Up ") {
			t.Errorf("status of the running container = %q, want Up ...", s)
		}
		if s := statuses[exited]; !strings.HasPrefix(s, "Exited (3) ") || !strings.HasSuffix(s, " ago") {
			t.Errorf("status of the exited container = %q, want Exited (3) ... ago", s)
		}
		if s := statuses[created]; s != "Created" {
			t.Errorf("status of the created container = %q, want Created", s)
		}

		// -q, --no-trunc
		ids := lines(c.ok(t, "ps", "-a", "-q", "--filter", "name="+prefix))
		if len(ids) != 3 {
			t.Errorf("ps -a -q: want 3 ids, got %q", ids)
		}
		for _, id := range ids {
			if !shortID.MatchString(id) {
				t.Errorf("ps -q printed %q, want 12 hex", id)
			}
		}
		if got := c.ok(t, "ps", "-q", "--no-trunc", "--filter", "name="+up); got != upID {
			t.Errorf("ps -q --no-trunc = %q, want %q", got, upID)
		}
		if out := c.ok(t, "ps", "--no-trunc", "--filter", "name="+up); !strings.Contains(out, upID) {
			t.Errorf("ps --no-trunc lacks the full id:\n%s", out)
		}

		// filters: status=, label=, and several combined
		if got := c.ok(t, "ps", "-a", "--filter", "name="+prefix, "--filter", "status=exited", "--format", "{{.Names}}"); got != exited {
			t.Errorf("--filter status=exited = %q, want %q", got, exited)
		}
		if got := c.ok(t, "ps", "-a", "--filter", "name="+prefix, "--filter", "status=created", "--format", "{{.Names}}"); got != created {
			t.Errorf("--filter status=created = %q, want %q", got, created)
		}
		if got := c.ok(t, "ps", "-a", "--filter", "label=tier="+prefix, "--format", "{{.Names}}"); got != up {
			t.Errorf("--filter label=tier=%s = %q, want %q", prefix, got, up)
		}
		if got := c.ok(t, "ps", "-a", "--filter", "label=tier", "--filter", "name="+prefix, "--format", "{{.Names}}"); got != up {
			t.Errorf("--filter label=tier = %q, want %q", got, up)
		}
		if got := c.ok(t, "ps", "-a", "--filter", "name="+prefix, "--filter", "status=running", "--format", `{{.Label "tier"}}`); got != prefix {
			t.Errorf("{{.Label \"tier\"}} = %q, want %q", got, prefix)
		}

		// table format prints a header
		if got := lines(c.ok(t, "ps", "--filter", "name="+up, "--format", "table {{.Names}}\t{{.Image}}")); len(got) != 2 ||
			strings.Join(strings.Fields(got[0]), " ") != "NAMES IMAGE" {
			t.Errorf("table format: %q", got)
		}
		// -s adds the SIZE column
		if got := lines(c.ok(t, "ps", "-s", "--filter", "name="+up)); len(got) != 2 || !strings.Contains(got[0], "SIZE") {
			t.Errorf("ps -s: %q", got)
		}
	})
}

// TestPsLatest is not parallel: -l and -n look at the newest containers of
// the whole daemon.
func TestPsLatest(t *testing.T) {
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		first, second := unique("first"), unique("second")
		c.ok(t, "create", "--name", first, "busybox", "true")
		rmOnCleanup(t, d, first)
		c.ok(t, "create", "--name", second, "busybox", "true")
		rmOnCleanup(t, d, second)
		if got := c.ok(t, "ps", "-l", "--format", "{{.Names}}"); got != second {
			t.Errorf("ps -l = %q, want %q", got, second)
		}
		if got := lines(c.ok(t, "ps", "-n", "2", "--format", "{{.Names}}")); strings.Join(got, ",") != second+","+first {
			t.Errorf("ps -n 2 = %q, want [%s %s]", got, second, first)
		}
		if got := lines(c.ok(t, "ps", "-n", "1", "-q")); len(got) != 1 {
			t.Errorf("ps -n 1 -q = %q, want one id", got)
		}
	})
}
