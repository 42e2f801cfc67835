//go:build linux

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"
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
