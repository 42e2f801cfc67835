//go:build linux

package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestNameConflict(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("dup")
		id := c.ok(t, "create", "--name", name, "busybox", "true")
		rmOnCleanup(t, d, name)
		want := `Conflict. The container name "/` + name + `" is already in use by container "` + id + `". You have to remove (or rename) that container to be able to reuse that name.`
		// docker's create exits 1 on a daemon error, run 125
		c.run(t, "create", "--name", name, "busybox", "true").Fails(t, 1, want)
		c.run(t, "run", "--name", name, "busybox", "true").Fails(t, 125, want)
		if got := lines(c.ok(t, "ps", "-a", "-q", "--filter", "name="+name)); len(got) != 1 {
			t.Errorf("after the conflicts: %d containers named %s, want 1", len(got), name)
		}
		c.run(t, "create", "--name", "bad/name", "busybox", "true").Fails(t, 1, "Invalid container name (bad/name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
		c.run(t, "run", "--name", "bad/name", "busybox", "true").Fails(t, 125, "Invalid container name")
	})
}

func TestUnknownObjects(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		ctr := unique("nosuch")
		for _, args := range [][]string{
			{"start", ctr}, {"stop", ctr}, {"restart", ctr}, {"kill", ctr}, {"rm", ctr},
			{"wait", ctr}, {"logs", ctr}, {"rename", ctr, unique("x")}, {"attach", ctr},
		} {
			c.run(t, args...).Fails(t, 1, "No such container: "+ctr)
		}
		c.run(t, "inspect", ctr).Fails(t, 1, "No such object: "+ctr)
		img := unique("noimage")
		for _, args := range [][]string{
			{"rmi", img}, {"history", img}, {"image", "inspect", img}, {"tag", img, unique("y")},
			{"save", "-o", filepath.Join(t.TempDir(), "out.tar"), img},
		} {
			c.run(t, args...).Fails(t, 1, "No such image")
		}
		// --pull never: an unknown image must fail without asking any
		// registry (the default would try docker.io, outside this machine)
		r := c.run(t, "create", "--pull", "never", img)
		if r.ExitCode != 1 || !strings.Contains(r.Stderr, "No such image") {
			t.Errorf("create --pull never of an unknown image: %s", r)
		}
	})
}

func TestInvalidReference(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		c.run(t, "run", "--rm", "Busybox").Fails(t, 125, "invalid reference format", "must be lowercase")
		c.run(t, "run", "--rm", "a:b:c").Fails(t, 125, "invalid reference format")
		c.run(t, "create", "Busybox").Fails(t, 1, "invalid reference format")
		c.run(t, "tag", "busybox", "Busybox").Fails(t, 1, "invalid reference format")
		c.run(t, "tag", "busybox", "a:b:c").Fails(t, 1, "invalid reference format")
		c.run(t, "import", d.BusyboxTar(t), "Bad:Ref").Fails(t, 1, "invalid reference format")
	})
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		for _, args := range [][]string{
			{"run", "--no-such-flag", "busybox"},
			{"ps", "--bogus"},
			{"images", "--bogus"},
			{"logs", "--bogus", "x"},
			{"rm", "--bogus", "x"},
		} {
			r := c.run(t, args...).Fails(t, 125, "unknown flag: --")
			if !strings.Contains(r.Stderr, "Usage:") {
				t.Errorf("want the usage in stderr: %s", r)
			}
		}
		c.run(t, "rm").Fails(t, 1, "requires at least 1 argument")
		c.run(t, "nosuchcommand").Fails(t, 1)
	})
}
