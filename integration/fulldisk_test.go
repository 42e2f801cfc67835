//go:build linux

package integration

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/testutil"
)

// TestFullDisk puts the data root on a 48 MiB tmpfs and fills it: a
// container writing into its rw layer and into a volume, load, pull, build
// and commit fail with "no space left on device"; nothing already stored is damaged
// (the images, containers and volumes are all there and whole after a
// daemon restart), and everything works again once space is freed.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	testutil.RequiresRoot(t)
	d, err := testutil.NewDaemon()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(d.DataRoot, 0o710); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", d.DataRoot, "tmpfs", 0, "size=48m,mode=0710"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("berthd log kept at %s; last lines:\n%s", d.SaveLog(), d.LogTail(60))
		}
		_ = d.Close() // unmounts what is mounted under its root
		if err := unix.Unmount(d.DataRoot, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			t.Error(err)
		}
		if err := os.RemoveAll(d.Root); err != nil {
			t.Error(err)
		}
	})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	d.LoadBusybox(t)
	c := cli{"berth", d}
	const enospc = "no space left on device"

	// an image archive with a layer of its own, saved outside the data root
	img := unique("fulldisk-img")
	c.ok(t, "run", "--name", img, "busybox", "dd", "if=/dev/urandom", "of=/blob", "bs=1M", "count=4")
	c.ok(t, "commit", img, img)
	archive := filepath.Join(t.TempDir(), "img.tar")
	c.ok(t, "save", "-o", archive, img)
	// and in a registry, to pull
	reg := testutil.StartRegistry(t)
	remote := reg.Host + "/" + img
	c.ok(t, "tag", img, remote)
	c.ok(t, "push", remote)
	c.ok(t, "rmi", remote)
	c.ok(t, "rm", img)
	c.ok(t, "rmi", img)

	vol := unique("fulldisk-vol")
	c.ok(t, "volume", "create", vol)
	c.ok(t, "run", "--rm", "-v", vol+":/v", "busybox", "sh", "-c", "echo precious > /v/kept")

	// fill the disk from a volume, then write into a running container's
	// rw layer
	running := unique("fulldisk-running")
	c.ok(t, "run", "-d", "--name", running, "busybox", "sleep", "600")
	filler := unique("filler")
	c.run(t, "run", "--name", filler, "-v", vol+":/v", "busybox", "dd", "if=/dev/zero", "of=/v/fill", "bs=1M", "count=64").
		Fails(t, 1, "No space left on device")
	c.run(t, "exec", running, "dd", "if=/dev/zero", "of=/fill", "bs=1M", "count=8").
		Fails(t, 1, "No space left on device")
	c.run(t, "load", "-i", archive).Fails(t, 1, enospc)
	c.run(t, "pull", remote).Fails(t, 1, enospc)
	// a build whose step writes (BuildKit's own state may be what fails first)
	buildDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(buildDir, "Dockerfile"), []byte("FROM busybox\nRUN dd if=/dev/zero of=/fill bs=1M count=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	built := unique("fulldisk-build")
	if r := c.run(t, "build", "-t", built, buildDir).Fails(t, 1); !strings.Contains(strings.ToLower(r.Stderr), enospc) {
		t.Errorf("build on a full disk: want %q: %s", enospc, r)
	}
	c.run(t, "commit", running, unique("fulldisk-commit")).Fails(t, 1, enospc)
	c.run(t, "run", "--rm", "busybox", "true").Fails(t, 125, enospc)

	// nothing stored is damaged, also across a restart
	d.Restart(t)
	if got := inspect(t, d, running, "{{.State.Status}}"); got != "running" {
		t.Errorf("the running container after the restart: %q", got)
	}
	// free the space as an admin would (a run needs room for its rw layer)
	if err := os.Remove(filepath.Join(d.DataRoot, "volumes", vol, "_data", "fill")); err != nil {
		t.Fatal(err)
	}
	c.ok(t, "rm", "-f", filler, running)
	if got := c.ok(t, "images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(got, "busybox:latest") {
		t.Errorf("images after the full disk: %q", got)
	}
	if got := c.ok(t, "run", "--rm", "-v", vol+":/v", "busybox", "cat", "/v/kept"); got != "precious" {
		t.Errorf("the volume's file: %q, want precious", got)
	}
	c.ok(t, "run", "--rm", "-v", vol+":/v", "busybox", "dd", "if=/dev/zero", "of=/v/big", "bs=1M", "count=8")
	if out := c.ok(t, "load", "-i", archive); !strings.Contains(out, img) {
		t.Errorf("load once space is free: %q", out)
	}
	if got := c.ok(t, "run", "--rm", img, "sh", "-c", "wc -c < /blob"); got != "4194304" {
		t.Errorf("the loaded image's layer: %q bytes, want 4194304", got)
	}
	c.ok(t, "pull", remote)
	if got := c.ok(t, "run", "--rm", remote, "sh", "-c", "wc -c < /blob"); got != "4194304" {
		t.Errorf("the pulled image's layer: %q bytes, want 4194304", got)
	}
	c.ok(t, "build", "-t", built, buildDir)
	if got := c.ok(t, "run", "--rm", built, "sh", "-c", "wc -c < /fill"); got != "2097152" {
		t.Errorf("the built image's file: %q bytes, want 2097152", got)
	}
	again := unique("fulldisk-again")
	c.ok(t, "run", "--name", again, "busybox", "sh", "-c", "echo x > /new")
	c.ok(t, "commit", again, again)
	c.ok(t, "rm", again)
	c.ok(t, "rmi", again, img, remote, built)
	c.ok(t, "volume", "rm", vol)
}
