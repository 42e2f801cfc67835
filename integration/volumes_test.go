//go:build linux

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/testutil"
)

// TestBindMount: data written through a -v bind lands on the host, in a
// folder created at start when missing, and outlives the container;
// inspect shows the mount in docker's shape.
func TestBindMount(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		src := filepath.Join(t.TempDir(), "not", "yet")
		name := unique("bind")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "--name", name, "-v", src+":/data", "busybox", "sh", "-c", "echo written-inside > /data/f")
		got, err := os.ReadFile(filepath.Join(src, "f"))
		if err != nil || string(got) != "written-inside\n" {
			t.Fatalf("host file = %q, %v", got, err)
		}
		var mounts []containertypes.MountPoint
		if err := json.Unmarshal([]byte(c.ok(t, "inspect", "-f", "{{json .Mounts}}", name)), &mounts); err != nil {
			t.Fatal(err)
		}
		want := containertypes.MountPoint{Type: "bind", Source: src, Destination: "/data", Mode: "", RW: true, Propagation: "rprivate"}
		if len(mounts) != 1 || mounts[0] != want {
			t.Errorf("Mounts = %+v, want [%+v]", mounts, want)
		}
		c.ok(t, "rm", name)
		if _, err := os.Stat(filepath.Join(src, "f")); err != nil {
			t.Errorf("host file gone after rm: %v", err)
		}
		// the next container sees what the first wrote
		if out := c.ok(t, "run", "--rm", "-v", src+":/again", "busybox", "cat", "/again/f"); out != "written-inside" {
			t.Errorf("second container read %q", out)
		}
	})
}

// TestBindMountReadOnly: a :ro bind can be read but not written inside,
// and inspect says so.
func TestBindMountReadOnly(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		src := t.TempDir()
		if err := os.WriteFile(filepath.Join(src, "f"), []byte("from-host"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := c.ok(t, "run", "--rm", "-v", src+":/data:ro", "busybox", "cat", "/data/f"); out != "from-host" {
			t.Errorf("read %q through the read-only bind", out)
		}
		c.run(t, "run", "--rm", "-v", src+":/data:ro", "busybox", "sh", "-c", "echo x > /data/f").Fails(t, 1, "Read-only file system")
		if got, _ := os.ReadFile(filepath.Join(src, "f")); string(got) != "from-host" {
			t.Errorf("host file changed to %q through a read-only bind", got)
		}
		name := unique("bindro")
		rmOnCleanup(t, d, name)
		c.ok(t, "create", "--name", name, "-v", src+":/data:ro", "busybox", "true")
		if got := c.ok(t, "inspect", "-f", "{{range .Mounts}}{{.Mode}} {{.RW}}{{end}}", name); got != "ro false" {
			t.Errorf("inspect mode and rw = %q", got)
		}
	})
}

// TestBindMountFile: a single host file can be bound over an image file.
func TestBindMountFile(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		f := filepath.Join(t.TempDir(), "motd")
		if err := os.WriteFile(f, []byte("bound-file"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := c.ok(t, "run", "--rm", "-v", f+":/etc/motd:ro", "busybox", "cat", "/etc/motd"); out != "bound-file" {
			t.Errorf("read %q from the bound file", out)
		}
	})
}

// TestBindMountRefused: a relative host path and a relative target are
// refused at create with docker's messages, and leave no container.
func TestBindMountRefused(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	status, _, body := apiCall(t, d, "POST", "/containers/create?name="+unique("relbind"), `{"Image":"busybox","Cmd":["true"],"HostConfig":{"Binds":["rel/dir:/data"]}}`)
	want := `create rel/dir: "rel/dir" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`
	if status != 400 || errorMessage(t, body) != want {
		t.Errorf("relative bind source: %d %s", status, body)
	}
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("relbind")
		rmOnCleanup(t, d, name)
		c.run(t, "run", "--name", name, "-v", "/tmp:data", "busybox", "true").Fails(t, 125, `invalid mount config for type "bind": invalid mount path: 'data' mount path must be absolute`)
		c.run(t, "inspect", name).Fails(t, 1, "No such")
	})
}

// rmVolumeOnCleanup removes the volume when t ends (after the containers
// rmOnCleanup removes, registered earlier, so it is no longer in use).
func rmVolumeOnCleanup(t *testing.T, d *testutil.Daemon, name string) {
	t.Helper()
	t.Cleanup(func() { d.Berth(t, "volume", "rm", "-f", name) })
}

// TestVolumeNamed: a named volume is created on first use, keeps its data
// after its container is removed, is seen by the next container, cannot be
// removed while a container uses it, and shows in inspect, ls and volume
// inspect in docker's shape.
func TestVolumeNamed(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		vol := unique("vol")
		name := unique("volctr")
		rmVolumeOnCleanup(t, d, vol)
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "--name", name, "-v", vol+":/data", "busybox", "sh", "-c", "echo kept > /data/f")
		if got := c.ok(t, "volume", "ls", "-q", "--filter", "name="+vol); got != vol {
			t.Errorf("volume ls -q = %q", got)
		}
		mountpoint := c.ok(t, "volume", "inspect", "-f", "{{.Driver}} {{.Scope}} {{.Mountpoint}}", vol)
		want := "local local " + filepath.Join(d.DataRoot, "volumes", vol, "_data")
		if mountpoint != want {
			t.Errorf("volume inspect = %q, want %q", mountpoint, want)
		}
		if got, err := os.ReadFile(filepath.Join(d.DataRoot, "volumes", vol, "_data", "f")); err != nil || string(got) != "kept\n" {
			t.Errorf("volume file on the host = %q, %v", got, err)
		}
		var mounts []containertypes.MountPoint
		if err := json.Unmarshal([]byte(c.ok(t, "inspect", "-f", "{{json .Mounts}}", name)), &mounts); err != nil {
			t.Fatal(err)
		}
		wantMount := containertypes.MountPoint{Type: "volume", Name: vol, Source: filepath.Join(d.DataRoot, "volumes", vol, "_data"), Destination: "/data", Driver: "local", Mode: "z", RW: true}
		if len(mounts) != 1 || mounts[0] != wantMount {
			t.Errorf("Mounts = %+v, want [%+v]", mounts, wantMount)
		}
		if got := c.ok(t, "ps", "-a", "--no-trunc", "--filter", "name="+name, "--format", "{{.Mounts}}"); got != vol {
			t.Errorf("ps Mounts = %q, want %q", got, vol)
		}
		id := c.ok(t, "inspect", "-f", "{{.Id}}", name)
		c.run(t, "volume", "rm", vol).Fails(t, 1, "remove "+vol+": volume is in use - ["+id+"]")
		c.run(t, "volume", "rm", "-f", vol).Fails(t, 1, "volume is in use")
		if got := c.ok(t, "volume", "ls", "-q", "--filter", "dangling=true", "--filter", "name="+vol); got != "" {
			t.Errorf("volume in use listed as dangling: %q", got)
		}
		c.ok(t, "rm", "-v", name) // -v never removes a named volume
		if got := c.ok(t, "run", "--rm", "-v", vol+":/again:ro", "busybox", "cat", "/again/f"); got != "kept" {
			t.Errorf("next container read %q", got)
		}
		if got := c.ok(t, "volume", "ls", "-q", "--filter", "dangling=true", "--filter", "name="+vol); got != vol {
			t.Errorf("unused volume not dangling: %q", got)
		}
		if got := c.ok(t, "volume", "rm", vol); got != vol {
			t.Errorf("volume rm printed %q", got)
		}
		c.run(t, "volume", "inspect", vol).Fails(t, 1, "no such volume")
		if _, err := os.Stat(filepath.Join(d.DataRoot, "volumes", vol)); !os.IsNotExist(err) {
			t.Errorf("volume folder left behind: %v", err)
		}
	})
}

// TestVolumeCopyUp: a fresh named volume mounted over image content gets
// that content, with its modes, on first mount; a volume that already
// holds data is not overwritten.
func TestVolumeCopyUp(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		vol := unique("copyup")
		rmVolumeOnCleanup(t, d, vol)
		if got := c.ok(t, "run", "--rm", "-v", vol+":/etc", "busybox", "cat", "/etc/group"); got != strings.TrimSpace(testutil.Group) {
			t.Errorf("/etc/group through the fresh volume = %q", got)
		}
		data := filepath.Join(d.DataRoot, "volumes", vol, "_data")
		fi, err := os.Stat(filepath.Join(data, "passwd"))
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Fatalf("copied passwd: %v %v", fi, err)
		}
		if got, _ := os.ReadFile(filepath.Join(data, "passwd")); string(got) != testutil.Passwd {
			t.Errorf("copied passwd = %q", got)
		}
		// changes stay: the volume is not filled again
		c.ok(t, "run", "--rm", "-v", vol+":/etc", "busybox", "rm", "/etc/group")
		c.run(t, "run", "--rm", "-v", vol+":/etc", "busybox", "cat", "/etc/group").Fails(t, 1, "No such file")
		// nocopy leaves a fresh volume empty
		empty := unique("nocopy")
		rmVolumeOnCleanup(t, d, empty)
		if got := c.ok(t, "run", "--rm", "-v", empty+":/etc:nocopy", "busybox", "ls", "/etc"); strings.Contains(got, "passwd") {
			t.Errorf("nocopy volume holds %q", got)
		}
	})
}

// TestVolumeAnonymous: `-v /path` makes a volume with a random name that
// rm -v removes with its container, keeping the named volumes it also
// used; without -v it stays.
func TestVolumeAnonymous(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		named := unique("keep")
		rmVolumeOnCleanup(t, d, named)
		name := unique("anon")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "--name", name, "-v", "/scratch", "-v", named+":/named", "busybox", "sh", "-c", "echo x > /scratch/f")
		anon := c.ok(t, "inspect", "-f", `{{range .Mounts}}{{if eq .Destination "/scratch"}}{{.Name}}{{end}}{{end}}`, name)
		if !fullID.MatchString(anon) {
			t.Fatalf("anonymous volume name %q", anon)
		}
		rmVolumeOnCleanup(t, d, anon)
		if got := c.ok(t, "inspect", "-f", "{{json .HostConfig.Binds}}", name); got != `["`+named+`:/named"]` {
			t.Errorf("HostConfig.Binds = %s, want only what was asked", got)
		}
		if got := c.ok(t, "volume", "inspect", "-f", "{{json .Labels}}", anon); got != `{"com.docker.volume.anonymous":""}` {
			t.Errorf("anonymous volume labels = %s", got)
		}
		c.ok(t, "rm", "-v", name)
		c.run(t, "volume", "inspect", anon).Fails(t, 1, "no such volume")
		c.ok(t, "volume", "inspect", named)

		// without -v the anonymous volume stays
		other := unique("anon")
		rmOnCleanup(t, d, other)
		c.ok(t, "create", "--name", other, "-v", "/scratch", "busybox", "true")
		kept := c.ok(t, "inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", other)
		rmVolumeOnCleanup(t, d, kept)
		c.ok(t, "rm", other)
		c.ok(t, "volume", "inspect", kept)
	})
}

// TestVolumeCreateListPrune: volume create with labels, ls with filters
// and --format, prune of unused volumes limited by a label.
func TestVolumeCreateListPrune(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		run := unique("run")
		a, b := unique("va"), unique("vb")
		rmVolumeOnCleanup(t, d, a)
		rmVolumeOnCleanup(t, d, b)
		if got := c.ok(t, "volume", "create", "--label", "run="+run, "--label", "x=1", a); got != a {
			t.Errorf("volume create printed %q", got)
		}
		c.ok(t, "volume", "create", "--label", "run="+run, b)
		if got := lines(c.ok(t, "volume", "ls", "--filter", "label=run="+run, "--format", "{{.Name}} {{.Driver}} {{.Label \"x\"}}")); len(got) != 2 || got[0] != a+" local 1" && got[1] != a+" local 1" {
			t.Errorf("volume ls by label = %q", got)
		}
		if got := c.ok(t, "volume", "ls", "-q", "--filter", "label=x=1", "--filter", "name="+a); got != a {
			t.Errorf("volume ls label x=1 = %q", got)
		}
		table := lines(c.ok(t, "volume", "ls", "--filter", "name="+a))
		if len(table) != 2 || strings.Join(strings.Fields(table[0]), " ") != "DRIVER VOLUME NAME" || strings.Join(strings.Fields(table[1]), " ") != "local "+a {
			t.Errorf("volume ls table = %q", table)
		}
		c.run(t, "volume", "create", "--driver", "nosuch", unique("v")).Fails(t, 1, `plugin "nosuch" not found`)
		c.run(t, "volume", "create", "a/b").Fails(t, 1, "includes invalid characters for a local volume name")
		// in use: prune keeps it
		user := unique("user")
		rmOnCleanup(t, d, user)
		c.ok(t, "create", "--name", user, "-v", b+":/b", "busybox", "true")
		out := c.ok(t, "volume", "prune", "-a", "-f", "--filter", "label=run="+run)
		if !strings.Contains(out, "Deleted Volumes:\n"+a+"\n") || strings.Contains(out, b) {
			t.Errorf("volume prune printed %q", out)
		}
		c.run(t, "volume", "inspect", a).Fails(t, 1, "no such volume")
		c.ok(t, "volume", "inspect", b)
	})
}

// TestVolumeMountFlag: --mount binds (whose source must exist) and named
// and anonymous volumes work as -v does; a type berth lacks is refused.
func TestVolumeMountFlag(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		src := t.TempDir()
		if err := os.WriteFile(filepath.Join(src, "f"), []byte("via-mount"), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := c.ok(t, "run", "--rm", "--mount", "type=bind,source="+src+",target=/data,readonly", "busybox", "cat", "/data/f"); got != "via-mount" {
			t.Errorf("read %q through --mount bind", got)
		}
		c.run(t, "run", "--rm", "--mount", "type=bind,source="+src+",target=/data,readonly", "busybox", "touch", "/data/g").Fails(t, 1, "Read-only file system")
		missing := filepath.Join(src, "missing")
		c.run(t, "run", "--rm", "--mount", "type=bind,source="+missing+",target=/data", "busybox", "true").Fails(t, 125, "bind source path does not exist: "+missing)
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Errorf("--mount created its missing source: %v", err)
		}

		vol := unique("mvol")
		rmVolumeOnCleanup(t, d, vol)
		name := unique("mount")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "--name", name, "--mount", "type=volume,source="+vol+",target=/data", "--mount", "type=volume,target=/anon", "busybox", "sh", "-c", "echo m > /data/f")
		var mounts []containertypes.MountPoint
		if err := json.Unmarshal([]byte(c.ok(t, "inspect", "-f", "{{json .Mounts}}", name)), &mounts); err != nil {
			t.Fatal(err)
		}
		if len(mounts) != 2 || mounts[0].Name != vol || mounts[0].Mode != "z" || mounts[1].Mode != "z" || !mounts[0].RW || mounts[0].Type != "volume" || !fullID.MatchString(mounts[1].Name) {
			t.Fatalf("Mounts = %+v", mounts)
		}
		anon := mounts[1].Name
		rmVolumeOnCleanup(t, d, anon)
		c.ok(t, "rm", "-v", name)
		c.run(t, "volume", "inspect", anon).Fails(t, 1, "no such volume")
		if got := c.ok(t, "run", "--rm", "--mount", "source="+vol+",target=/again", "busybox", "cat", "/again/f"); got != "m" {
			t.Errorf("next container read %q from the --mount volume", got)
		}
	})
}
