//go:build linux

package integration

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func rmiOnCleanup(t *testing.T, c cli, image string) {
	t.Helper()
	t.Cleanup(func() { c.d.Berth(t, "rmi", "-f", image) })
}

// startPrepared runs a busybox container that runs script, then sleeps,
// removed when t ends, and waits until ready exists in it.
func startPrepared(t *testing.T, c cli, name, script, ready string) {
	t.Helper()
	rmOnCleanup(t, c.d, name)
	c.ok(t, "run", "-d", "--name", name, "busybox", "sh", "-c", script+"; sleep 300")
	waitFor(t, 10*time.Second, ready+" in "+name, func() bool {
		return c.run(t, "exec", name, "test", "-e", ready).ExitCode == 0
	})
}

// TestFsopsCp: cp in both directions on a running and a stopped container,
// into a volume, with -a, -L and "-", and no way out of the container's
// root through its symbolic links.
func TestFsopsCp(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name, vol := unique("cp"), unique("cpvol")
		since := time.Now()
		rmOnCleanup(t, d, name)
		t.Cleanup(func() { d.Berth(t, "volume", "rm", "-f", vol) })
		c.ok(t, "run", "-d", "--name", name, "-v", vol+":/data", "busybox", "sleep", "300")
		dir := t.TempDir()
		local := filepath.Join(dir, "greeting")
		if err := os.WriteFile(local, []byte("hello\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(local, 1234, 1234); err != nil {
			t.Fatal(err)
		}

		// host -> running container; as dockerd, the archive's owners are
		// kept, and -a gives the files to the container's user
		c.ok(t, "cp", local, name+":/tmp/")
		if got := c.ok(t, "exec", name, "cat", "/tmp/greeting"); got != "hello" {
			t.Errorf("copied file holds %q", got)
		}
		if got := c.ok(t, "exec", name, "stat", "-c", "%u:%g", "/tmp/greeting"); got != "1234:1234" {
			t.Errorf("owner %s, want the file's 1234:1234", got)
		}
		nobody := unique("cpuser")
		rmOnCleanup(t, d, nobody)
		c.ok(t, "run", "-d", "--name", nobody, "-u", "nobody", "busybox", "sleep", "300")
		c.run(t, "cp", local, name+":/no/such/dir/").Fails(t, 1, "no such directory")
		c.ok(t, "cp", "-a", local, nobody+":/tmp/kept")
		if got := c.ok(t, "exec", nobody, "stat", "-c", "%u:%g", "/tmp/kept"); got != "65534:65534" {
			t.Errorf("owner with -a %s, want the container user's 65534:65534", got)
		}

		// container -> host
		out := filepath.Join(dir, "passwd")
		c.ok(t, "cp", name+":/etc/passwd", out)
		want := c.ok(t, "exec", name, "cat", "/etc/passwd")
		if got, _ := os.ReadFile(out); strings.TrimSpace(string(got)) != want {
			t.Errorf("copied /etc/passwd %q, want the container's %q", got, want)
		}
		c.run(t, "cp", name+":/nope", out).Fails(t, 1, "Could not find the file /nope in container "+name)
		// a folder, and a folder's content with "/."
		c.ok(t, "cp", name+":/etc", filepath.Join(dir, "etccopy"))
		if _, err := os.Stat(filepath.Join(dir, "etccopy", "passwd")); err != nil {
			t.Errorf("cp of /etc: %v", err)
		}
		content := filepath.Join(dir, "content")
		if err := os.Mkdir(content, 0o755); err != nil {
			t.Fatal(err)
		}
		c.ok(t, "cp", name+":/etc/.", content)
		if _, err := os.Stat(filepath.Join(content, "passwd")); err != nil {
			t.Errorf("cp of /etc/. into a folder: %v", err)
		}

		// a link to /etc/passwd is the container's, never the host's
		c.ok(t, "exec", name, "sh", "-c", "echo marker:x:0:0::/:/bin/sh > /etc/passwd && ln -s /etc/passwd /tmp/pw && ln -s /etc /tmp/etclink && ln -s ../../../../../etc /tmp/up")
		link := filepath.Join(dir, "pw")
		c.ok(t, "cp", name+":/tmp/pw", link)
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("without -L the link itself is copied: %v %v", fi, err)
		}
		followed := filepath.Join(dir, "pw-followed")
		c.ok(t, "cp", "-L", name+":/tmp/pw", followed)
		if got, _ := os.ReadFile(followed); !strings.HasPrefix(string(got), "marker:") {
			t.Errorf("cp -L of a link to /etc/passwd gave %q, want the container's file", got)
		}
		escaped := filepath.Join(dir, "up-passwd")
		c.ok(t, "cp", name+":/tmp/up/passwd", escaped)
		if got, _ := os.ReadFile(escaped); !strings.HasPrefix(string(got), "marker:") {
			t.Errorf("cp through a ../ link gave %q, want the container's /etc/passwd", got)
		}

		// writes through links stay in the container
		probe := unique("probe")
		probeFile := filepath.Join(dir, probe)
		if err := os.WriteFile(probeFile, []byte("inside\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, dst := range []string{"/tmp/etclink/", "/tmp/up/"} {
			c.ok(t, "cp", probeFile, name+":"+dst)
			if _, err := os.Stat(filepath.Join("/etc", probe)); err == nil {
				os.Remove(filepath.Join("/etc", probe))
				t.Fatalf("cp to %s wrote the host's /etc", dst)
			}
			if got := c.ok(t, "exec", name, "cat", "/etc/"+probe); got != "inside" {
				t.Errorf("cp to %s: the container's /etc/%s holds %q", dst, probe, got)
			}
			c.ok(t, "exec", name, "rm", "/etc/"+probe)
		}
		// a tar stream whose link points at / and a file through it
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		_ = tw.WriteHeader(&tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: "/", Mode: 0o777})
		_ = tw.WriteHeader(&tar.Header{Name: "esc/tmp/" + probe, Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
		_, _ = tw.Write([]byte("tar"))
		_ = tw.Close()
		c.runStdin(t, buf.String(), "cp", "-", name+":/tmp").Success(t)
		if _, err := os.Stat(filepath.Join("/tmp", probe)); err == nil {
			os.Remove(filepath.Join("/tmp", probe))
			t.Fatal("a tar's link to / wrote the host's /tmp")
		}
		if got := c.ok(t, "exec", name, "cat", "/tmp/"+probe); got != "tar" {
			t.Errorf("file through the tar's link holds %q", got)
		}
		// "-" to stdout is a tar
		r := c.run(t, "cp", name+":/tmp/greeting", "-").Success(t)
		hdr, err := tar.NewReader(strings.NewReader(r.Stdout)).Next()
		if err != nil || hdr.Name != "greeting" {
			t.Errorf("cp to - : first entry %v, %v", hdr, err)
		}

		// a volume is written, not the rw layer under it
		c.ok(t, "cp", local, name+":/data/")
		mp := c.ok(t, "volume", "inspect", "-f", "{{.Mountpoint}}", vol)
		if got, err := os.ReadFile(filepath.Join(mp, "greeting")); err != nil || string(got) != "hello\n" {
			t.Errorf("volume holds %q, %v", got, err)
		}
		if diff := c.ok(t, "diff", name); strings.Contains(diff, "/data/greeting") {
			t.Errorf("the copy into the volume went to the rw layer: diff\n%s", diff)
		}

		// read-only mounts and roots refuse writes with docker's messages
		ro, roVol := unique("cpro"), unique("cprovol")
		rmOnCleanup(t, d, ro)
		t.Cleanup(func() { d.Berth(t, "volume", "rm", "-f", roVol) })
		c.ok(t, "run", "-d", "--name", ro, "--read-only", "-v", roVol+":/ro:ro", "busybox", "sleep", "300")
		c.run(t, "cp", local, ro+":/ro/").Fails(t, 1, "mounted volume is marked read-only")
		c.run(t, "cp", local, ro+":/tmp/").Fails(t, 1, "container rootfs is marked read-only")
		roOut := filepath.Join(dir, "ro-passwd")
		c.ok(t, "cp", ro+":/etc/passwd", roOut)
		if got, _ := os.ReadFile(roOut); !strings.HasPrefix(string(got), "root:") {
			t.Errorf("cp from a read-only container gave %q", got)
		}
		if got := c.ok(t, "exec", name, "ls", "-a", "/"); strings.Contains(got, "pivot") {
			t.Errorf("the copies left a folder in the container's root:\n%s", got)
		}

		// the /etc files the daemon binds, running and stopped
		hostname := c.ok(t, "exec", name, "hostname")
		hostnameOf := func(what string) {
			t.Helper()
			out := filepath.Join(dir, "hostname-"+what)
			c.ok(t, "cp", name+":/etc/hostname", out)
			if got, _ := os.ReadFile(out); strings.TrimSpace(string(got)) != hostname {
				t.Errorf("/etc/hostname of the %s container: %q, want %q", what, got, hostname)
			}
		}
		hostnameOf("running")

		// a stopped container
		c.ok(t, "stop", "-t", "0", name)
		hostnameOf("stopped")
		c.ok(t, "cp", local, name+":/root/")
		fromVol := filepath.Join(dir, "from-volume")
		c.ok(t, "cp", name+":/data/greeting", fromVol)
		if got, _ := os.ReadFile(fromVol); string(got) != "hello\n" {
			t.Errorf("cp from a stopped container's volume gave %q", got)
		}
		c.ok(t, "start", name)
		if got := c.ok(t, "exec", name, "cat", "/root/greeting"); got != "hello" {
			t.Errorf("file copied while stopped holds %q", got)
		}
		// dockerd's events for the two directions
		inOrder(t, shows(replay(t, c, since, "--filter", "container="+name)), "container extract-to-dir", "container archive-path")
	})
}

// TestFsopsDiffCommit: diff lists the rw layer's changes; commit makes them
// an image, with -c changes, -a and -m, from a running and a stopped
// container, and the image runs and shows in history.
func TestFsopsDiffCommit(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name, img := unique("commit"), unique("committed")
		since := time.Now()
		rmiOnCleanup(t, c, img)
		startPrepared(t, c, name, "echo hi > /hello; rm /etc/group; touch /ready", "/ready")
		diff := lines(c.ok(t, "diff", name))
		for _, want := range []string{"A /hello", "D /etc/group", "C /etc"} {
			if !contains(diff, want) {
				t.Errorf("diff lacks %q:\n%s", want, strings.Join(diff, "\n"))
			}
		}
		for _, l := range diff {
			if strings.Contains(l, "/proc") || strings.Contains(l, "/etc/hosts") || strings.Contains(l, "/etc/resolv.conf") {
				t.Errorf("diff shows a runtime mount point: %s", l)
			}
		}

		id := c.ok(t, "commit", "-a", "Tester <t@example.com>", "-m", "the message", "-c", "ENV FOO=bar", "-c", `CMD ["cat", "/hello"]`, name, img)
		if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
			t.Fatalf("commit printed %q", id)
		}
		if got := c.ok(t, "run", "--rm", img); got != "hi" {
			t.Errorf("the committed image's CMD printed %q", got)
		}
		if got := c.ok(t, "run", "--rm", img, "sh", "-c", "echo $FOO; test -e /etc/group || echo gone"); got != "bar\ngone" {
			t.Errorf("committed env and deletion: %q", got)
		}
		if got := c.ok(t, "image", "inspect", "-f", "{{.Author}}|{{.Comment}}|{{.Id}}", img); got != "Tester <t@example.com>|the message|"+id {
			t.Errorf("inspect: %q", got)
		}
		hist := c.ok(t, "history", "--no-trunc", img)
		if !strings.Contains(hist, "the message") || !strings.Contains(hist, id) {
			t.Errorf("history:\n%s", hist)
		}
		// --pause is the default: the running container is frozen for the
		// commit and thawed after, and it runs on
		inOrder(t, shows(replay(t, c, since, "--filter", "container="+name), "comment", "imageID", "imageRef"),
			"container pause", "container commit comment=the message imageID="+id+" imageRef="+img+":latest", "container unpause")
		if got := inspect(t, d, name, "{{.State.Status}}"); got != "running" {
			t.Errorf("after commit the container is %q, want running", got)
		}
		nopause := time.Now()
		img3 := img + "-nopause"
		rmiOnCleanup(t, c, img3)
		c.ok(t, "commit", "--pause=false", name, img3)
		if got := shows(replay(t, c, nopause, "--filter", "container="+name, "--filter", "event=pause")); len(got) != 0 {
			t.Errorf("commit --pause=false paused the container: %q", got)
		}
		inOrder(t, shows(replay(t, c, since, "--filter", "image="+id), "name"), "image tag name="+img+":latest")

		// a stopped container commits too, without the runtime's mount points
		c.ok(t, "stop", "-t", "0", name)
		img2 := img + "-stopped"
		rmiOnCleanup(t, c, img2)
		c.ok(t, "commit", name, img2)
		if got := c.ok(t, "run", "--rm", img2, "cat", "/hello"); got != "hi" {
			t.Errorf("image of the stopped container: %q", got)
		}
		c.run(t, "commit", "-c", "BOGUS x", name).Fails(t, 1, "bogus is not a valid change command")
		c.run(t, "commit", unique("missing")).Fails(t, 1, "No such container")
	})
}

// TestFsopsExportImport: export tars a container's root filesystem, and
// importing it gives an image that runs.
func TestFsopsExportImport(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name, img := unique("export"), unique("imported")
		since := time.Now()
		rmiOnCleanup(t, c, img)
		startPrepared(t, c, name, "echo exported > /marker", "/marker")
		file := filepath.Join(t.TempDir(), "rootfs.tar")
		c.ok(t, "export", "-o", file, name)
		c.ok(t, "import", file, img)
		if got := c.ok(t, "run", "--rm", img, "cat", "/marker"); got != "exported" {
			t.Errorf("imported image: %q", got)
		}
		// stopped, to stdout
		c.ok(t, "stop", "-t", "0", name)
		r := c.run(t, "export", name).Success(t)
		found := false
		tr := tar.NewReader(strings.NewReader(r.Stdout))
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if strings.TrimPrefix(h.Name, "./") == "marker" {
				found = true
			}
		}
		if !found {
			t.Error("export of the stopped container lacks /marker")
		}
		inOrder(t, shows(replay(t, c, since, "--filter", "container="+name)), "container export", "container export")
	})
}

// TestFsopsDiffFreshContainer: a container that changed nothing shows no
// change, although the runtime added /etc/hosts, /etc/hostname,
// /etc/resolv.conf and (with --init) /sbin/docker-init as mount points.
func TestFsopsDiffFreshContainer(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("fresh")
		rmOnCleanup(t, d, name)
		c.ok(t, "run", "-d", "--init", "--name", name, "busybox", "sleep", "300")
		if got := c.ok(t, "diff", name); got != "" {
			t.Errorf("diff of a fresh container = %q, want nothing", got)
		}
	})
}
