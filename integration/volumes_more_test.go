//go:build linux

package integration

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/sys/mountinfo"

	"github.com/berth-project/berth/internal/testutil"
	"github.com/berth-project/berth/internal/volume"
)

// tarEntry is a file or folder added to the busybox rootfs by
// importBusyboxPlus.
type tarEntry struct {
	header  tar.Header
	content []byte
}

// importBusyboxPlus imports busybox's rootfs plus extra as a new image with
// the Dockerfile change (if any) and returns its reference; the image is
// removed when t ends.
func importBusyboxPlus(t *testing.T, d *testutil.Daemon, change string, extra ...tarEntry) string {
	t.Helper()
	in, err := os.Open(d.BusyboxTar(t))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	path := filepath.Join(t.TempDir(), "img.tar")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range extra {
		h := e.header
		h.ModTime = time.Unix(1700000000, 0)
		h.Size = int64(len(e.content))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ref := unique("img") + ":v1"
	args := []string{"import"}
	if change != "" {
		args = append(args, "-c", change)
	}
	d.Berth(t, append(args, path, ref)...).Success(t)
	t.Cleanup(func() { d.Berth(t, "rmi", "-f", ref) })
	return ref
}

// volumeImage imports busybox plus /srv/app (owned 1000:1001, mode 0750,
// holding f owned 1002:1003) as an image that declares VOLUME /srv/app.
func volumeImage(t *testing.T, d *testutil.Daemon) string {
	t.Helper()
	return importBusyboxPlus(t, d, "VOLUME /srv/app",
		tarEntry{header: tar.Header{Name: "srv/", Typeflag: tar.TypeDir, Mode: 0o755}},
		tarEntry{header: tar.Header{Name: "srv/app/", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 1000, Gid: 1001}},
		tarEntry{header: tar.Header{Name: "srv/app/f", Typeflag: tar.TypeReg, Mode: 0o640, Uid: 1002, Gid: 1003}, content: []byte("image-content")},
	)
}

func inspectMounts(t *testing.T, c cli, name string) map[string]containertypes.MountPoint {
	t.Helper()
	var mounts []containertypes.MountPoint
	if err := json.Unmarshal([]byte(c.ok(t, "inspect", "-f", "{{json .Mounts}}", name)), &mounts); err != nil {
		t.Fatal(err)
	}
	out := map[string]containertypes.MountPoint{}
	for _, m := range mounts {
		out[m.Destination] = m
	}
	return out
}

// TestVolumeImageVolume: an image's VOLUME gets an anonymous volume filled
// with the image's content (ownership and modes kept), listed in inspect's
// Mounts and not in HostConfig.Binds, removed by rm -v and by --rm.
func TestVolumeImageVolume(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	ref := volumeImage(t, d)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("imgvol")
		rmOnCleanup(t, d, name)
		got := c.ok(t, "run", "--name", name, ref, "sh", "-c", "stat -c '%u:%g %a' /srv/app /srv/app/f; cat /srv/app/f; echo more > /srv/app/g")
		if want := "1000:1001 750\n1002:1003 640\nimage-content"; got != want {
			t.Errorf("volume content = %q, want %q", got, want)
		}
		m := inspectMounts(t, c, name)["/srv/app"]
		if m.Type != "volume" || !fullID.MatchString(m.Name) || m.Driver != "local" || !m.RW {
			t.Fatalf("Mounts[/srv/app] = %+v, want an anonymous volume", m)
		}
		if binds := c.ok(t, "inspect", "-f", "{{json .HostConfig.Binds}}", name); binds != "null" {
			t.Errorf("HostConfig.Binds = %s, want null (docker shows only what was asked)", binds)
		}
		if data, err := os.ReadFile(filepath.Join(m.Source, "g")); err != nil || string(data) != "more\n" {
			t.Errorf("volume folder on the host: %q, %v", data, err)
		}
		c.ok(t, "rm", "-v", name)
		c.run(t, "volume", "inspect", m.Name).Fails(t, 1, "no such volume")

		// --rm removes it too
		auto := unique("imgvolrm")
		c.ok(t, "run", "-d", "--rm", "--name", auto, ref, "sleep", "2")
		anon := inspectMounts(t, c, auto)["/srv/app"].Name
		waitFor(t, 20*time.Second, "the --rm container's volume to go", func() bool {
			return d.Berth(t, "volume", "inspect", anon).ExitCode != 0
		})
	})
}

// mountOptions returns the options /proc/mounts shows inside a new
// container for the mount at target, run with args.
func mountOptions(t *testing.T, c cli, target string, args ...string) string {
	t.Helper()
	run := append([]string{"run", "--rm"}, args...)
	run = append(run, "busybox", "awk", "$2 == \""+target+"\" {print $3 \" \" $4}", "/proc/mounts")
	return c.ok(t, run...)
}

// TestVolumeTmpfs: --tmpfs and --mount type=tmpfs get docker's defaults
// (noexec, nosuid, nodev) unless told otherwise, with size and mode;
// inspect lists the --mount one only, as docker.
func TestVolumeTmpfs(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if got := mountOptions(t, c, "/t", "--tmpfs", "/t:size=1m,mode=1770"); got != "tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=1770" {
			t.Errorf("--tmpfs mount = %q", got)
		}
		if got := mountOptions(t, c, "/t", "--tmpfs", "/t:exec"); strings.Contains(got, "noexec") || !strings.Contains(got, "nosuid") {
			t.Errorf("--tmpfs /t:exec mount = %q", got)
		}
		if got := mountOptions(t, c, "/m", "--mount", "type=tmpfs,target=/m,tmpfs-size=2m,tmpfs-mode=700"); got != "tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k,mode=700" {
			t.Errorf("--mount type=tmpfs = %q", got)
		}
		name := unique("tmpfs")
		rmOnCleanup(t, d, name)
		c.ok(t, "create", "--name", name, "--tmpfs", "/run", "--mount", "type=tmpfs,destination=/m", "busybox", "true")
		mounts := inspectMounts(t, c, name)
		if len(mounts) != 1 || mounts["/m"] != (containertypes.MountPoint{Type: "tmpfs", Destination: "/m", RW: true}) {
			t.Errorf("Mounts = %+v, want only the --mount tmpfs", mounts)
		}
		c.run(t, "run", "--rm", "--tmpfs", "rel", "busybox", "true").Fails(t, 125, "Error response from daemon: invalid mount path: 'rel' mount path must be absolute")
		c.run(t, "run", "--rm", "--mount", "type=tmpfs,source=x,target=/m", "busybox", "true").Fails(t, 125, `invalid mount config for type "tmpfs": field Source must not be specified`)
		c.run(t, "run", "--rm", "--mount", "type=tmpfs,target=rel", "busybox", "true").Fails(t, 125, `invalid mount config for type "tmpfs": invalid mount path: 'rel' mount path must be absolute`)
	})
}

// TestVolumeBindPropagationNoCopy: bind-propagation reaches inspect and
// the kernel (or a slave bind of a private host mount is refused at start,
// as docker does), a bad one is refused with docker's message; a nocopy volume (--mount
// volume-nocopy, -v :nocopy) stays empty where a plain one is filled.
func TestVolumeBindPropagationNoCopy(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	ref := volumeImage(t, d)
	eachCLI(t, d, func(t *testing.T, c cli) {
		src := t.TempDir()
		name := unique("prop")
		rmOnCleanup(t, d, name)
		c.ok(t, "create", "--name", name, "--mount", "type=bind,source="+src+",target=/data,bind-propagation=rslave", "busybox", "true")
		if m := inspectMounts(t, c, name)["/data"]; m.Propagation != "rslave" {
			t.Errorf("Propagation = %q, want rslave", m.Propagation)
		}
		c.run(t, "run", "--rm", "--mount", "type=bind,source="+src+",target=/data,bind-propagation=sideways", "busybox", "true").Fails(t, 125, `invalid mount config for type "bind": invalid propagation mode: sideways`)
		// docker's rule: a slave bind needs a shared or slave host mount
		// (then the kernel shows the container's as a slave), else start fails
		mp, shared, slave, err := volume.SourcePropagation(src)
		if err != nil {
			t.Fatal(err)
		}
		slaveRun := c.run(t, "run", "--rm", "--mount", "type=bind,source="+src+",target=/data,bind-propagation=rslave", "busybox", "awk", `$5 == "/data"`, "/proc/self/mountinfo")
		if shared || slave {
			if out := slaveRun.Success(t).Out(); !strings.Contains(out, " master:") {
				t.Errorf("mountinfo of an rslave bind: %q", out)
			}
		} else {
			slaveRun.Fails(t, 125, "path "+src+" is mounted on "+mp+" but it is not a shared or slave mount")
		}

		vol := unique("nocopy")
		rmVolumeOnCleanup(t, d, vol)
		if got := c.ok(t, "run", "--rm", "--mount", "type=volume,source="+vol+",target=/srv/app,volume-nocopy", ref, "ls", "-A", "/srv/app"); got != "" {
			t.Errorf("nocopy volume holds %q", got)
		}
		vol2 := unique("nocopy")
		rmVolumeOnCleanup(t, d, vol2)
		if got := c.ok(t, "run", "--rm", "-v", vol2+":/srv/app:nocopy", ref, "ls", "-A", "/srv/app"); got != "" {
			t.Errorf("-v :nocopy volume holds %q", got)
		}
		vol3 := unique("copy")
		rmVolumeOnCleanup(t, d, vol3)
		if got := c.ok(t, "run", "--rm", "-v", vol3+":/srv/app", ref, "ls", "-A", "/srv/app"); got != "f" {
			t.Errorf("copied-up volume holds %q", got)
		}
	})
}

// TestVolumeReadOnlyRootfs: --read-only makes the root filesystem and
// /tmp read-only (docker adds no tmpfs), while volumes, --tmpfs and
// /dev/shm stay writable.
func TestVolumeReadOnlyRootfs(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		c.run(t, "run", "--rm", "--read-only", "busybox", "touch", "/x").Fails(t, 1, "Read-only file system")
		c.run(t, "run", "--rm", "--read-only", "busybox", "touch", "/tmp/x").Fails(t, 1, "Read-only file system")
		c.run(t, "run", "--rm", "--read-only", "busybox", "sh", "-c", "echo x > /etc/hosts").Fails(t, 1, "Read-only file system")
		c.ok(t, "run", "--rm", "--read-only", "--tmpfs", "/tmp", "-v", "/vol", "busybox", "sh", "-c", "touch /tmp/x /vol/x /dev/shm/x")
		if got := c.ok(t, "run", "--rm", "--read-only", "busybox", "awk", `$2 == "/" {print $4}`, "/proc/mounts"); !strings.HasPrefix(got, "ro,") {
			t.Errorf("rootfs options %q", got)
		}
	})
}

// TestVolumeVolumesFrom: --volumes-from gives a container the other's
// volumes and binds (:ro makes them read-only), which outlive the other's
// removal; an unknown container is docker's "No such container".
func TestVolumeVolumesFrom(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		vol := unique("vf")
		rmVolumeOnCleanup(t, d, vol)
		host := t.TempDir()
		src, dst, ro := unique("vfsrc"), unique("vfdst"), unique("vfro")
		rmOnCleanup(t, d, src)
		rmOnCleanup(t, d, dst)
		rmOnCleanup(t, d, ro)
		c.ok(t, "run", "--name", src, "-v", vol+":/data", "-v", "/anon", "-v", host+":/host", "busybox", "sh", "-c", "echo d > /data/f; echo a > /anon/f; echo h > /host/f")
		anon := inspectMounts(t, c, src)["/anon"].Name
		rmVolumeOnCleanup(t, d, anon)
		if got := c.ok(t, "run", "--name", dst, "--volumes-from", src, "busybox", "sh", "-c", "cat /data/f /anon/f /host/f; echo w > /data/w"); got != "d\na\nh" {
			t.Errorf("read through --volumes-from: %q", got)
		}
		c.run(t, "run", "--name", ro, "--volumes-from", src+":ro", "busybox", "touch", "/data/x").Fails(t, 1, "Read-only file system")
		mounts := inspectMounts(t, c, ro)
		if len(mounts) != 3 || mounts["/data"].Name != vol || mounts["/data"].RW || mounts["/anon"].Name != anon || mounts["/host"].Source != host {
			t.Errorf("Mounts of the :ro container = %+v", mounts)
		}
		if got := c.ok(t, "inspect", "-f", "{{json .HostConfig.VolumesFrom}}", ro); got != `["`+src+`:ro"]` {
			t.Errorf("HostConfig.VolumesFrom = %s", got)
		}
		// the anonymous volume stays while others use it
		c.ok(t, "rm", "-v", src)
		if got := c.ok(t, "volume", "inspect", "-f", "{{.Name}}", anon); got != anon {
			t.Errorf("anonymous volume after rm -v of its creator: %q", got)
		}
		c.ok(t, "start", "-a", dst)
		c.run(t, "run", "--rm", "--volumes-from", "nosuchcontainer", "busybox", "true").Fails(t, 125, "No such container: nosuchcontainer")
		c.run(t, "run", "--rm", "--volumes-from", dst+":rx", "busybox", "true").Fails(t, 125, "invalid mode: rx")
	})
}

// isMounted reports whether something is mounted on dir in the host's
// mount table.
func isMounted(t *testing.T, dir string) bool {
	t.Helper()
	mounted, err := mountinfo.Mounted(dir)
	if err != nil {
		t.Fatal(err)
	}
	return mounted
}

// TestVolumeCreateOptions: volume create -o type=tmpfs and
// type=none,o=bind mount the device while containers use the volume
// (shared between them), unmounted when the last one stops, as docker's
// local driver; bad options get docker's messages.
func TestVolumeCreateOptions(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		tmp := unique("tmpvol")
		rmVolumeOnCleanup(t, d, tmp)
		c.ok(t, "volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m,uid=1000", tmp)
		if got := c.ok(t, "volume", "inspect", "-f", "{{json .Options}}", tmp); got != `{"device":"tmpfs","o":"size=1m,uid=1000","type":"tmpfs"}` {
			t.Errorf("Options = %s", got)
		}
		mp := c.ok(t, "volume", "inspect", "-f", "{{.Mountpoint}}", tmp)
		holder := unique("tmpvolholder")
		rmOnCleanup(t, d, holder)
		c.ok(t, "run", "-d", "--name", holder, "-v", tmp+":/data", "busybox", "sh", "-c", "echo shared > /data/f; sleep 300")
		waitFor(t, 10*time.Second, "the holder's write", func() bool { _, err := os.Stat(filepath.Join(mp, "f")); return err == nil })
		if !isMounted(t, mp) {
			t.Errorf("%s not mounted while a container uses it", mp)
		}
		if got := c.ok(t, "run", "--rm", "-v", tmp+":/data", "busybox", "sh", "-c", "cat /data/f; stat -c %u /data; awk '$2 == \"/data\" {print $3}' /proc/mounts"); got != "shared\n1000\ntmpfs" {
			t.Errorf("second container sees %q", got)
		}
		if !isMounted(t, mp) {
			t.Errorf("%s unmounted while the holder still runs", mp)
		}
		c.ok(t, "rm", "-f", holder)
		waitFor(t, 10*time.Second, "the tmpfs volume to be unmounted", func() bool { return !isMounted(t, mp) })
		if _, err := os.Stat(filepath.Join(mp, "f")); !os.IsNotExist(err) {
			t.Errorf("tmpfs content outlived its last container: %v", err)
		}

		dev := t.TempDir()
		bind := unique("bindvol")
		rmVolumeOnCleanup(t, d, bind)
		c.ok(t, "volume", "create", "--opt", "type=none", "--opt", "device="+dev, "--opt", "o=bind", bind)
		c.ok(t, "run", "--rm", "-v", bind+":/data", "busybox", "sh", "-c", "echo via-volume > /data/f")
		if got, err := os.ReadFile(filepath.Join(dev, "f")); err != nil || string(got) != "via-volume\n" {
			t.Errorf("device folder holds %q, %v", got, err)
		}
		bindMp := c.ok(t, "volume", "inspect", "-f", "{{.Mountpoint}}", bind)
		waitFor(t, 10*time.Second, "the bind volume to be unmounted", func() bool { return !isMounted(t, bindMp) })

		c.run(t, "volume", "create", "-o", "foo=bar", unique("badopt")).Fails(t, 1, `invalid option: "foo"`)
		c.run(t, "volume", "create", "-o", "type=tmpfs", unique("badopt")).Fails(t, 1, `missing required option: "device"`)
		gone := unique("gonedev")
		rmVolumeOnCleanup(t, d, gone)
		c.ok(t, "volume", "create", "-o", "type=none", "-o", "device=/no/such/dir", "-o", "o=bind", gone)
		// docker's CLI exits 127 on "no such file or directory" in the message
		c.run(t, "run", "--rm", "-v", gone+":/data", "busybox", "true").Fails(t, 127, "error while mounting volume '", "failed to mount local volume", "no such file or directory")
	})
}

// TestVolumeBadInput: docker's messages for a volume name with invalid
// characters and a host file bound where the image has a folder.
func TestVolumeBadInput(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		c.run(t, "run", "--rm", "-v", "bad$name:/data", "busybox", "true").Fails(t, 125, `"bad$name" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`)
		c.run(t, "volume", "create", "bad$name").Fails(t, 1, `"bad$name" includes invalid characters for a local volume name`)
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		c.run(t, "run", "--rm", "-v", file+":/etc", "busybox", "true").Fails(t, 125, "not a directory", "Are you trying to mount a directory onto a file (or vice-versa)?")
	})
}

// TestVolumeSurvivesKill9: a volume's data, a tmpfs volume still mounted
// for a running container and the in-use accounting survive a kill -9 of
// berthd.
func TestVolumeSurvivesKill9(t *testing.T) {
	d := ownDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		vol, tmp, name := unique("k9vol"), unique("k9tmp"), unique("k9")
		c.ok(t, "volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", tmp)
		c.ok(t, "run", "-d", "--name", name, "-v", vol+":/data", "-v", tmp+":/tmp", "busybox", "sh", "-c", "echo kept > /data/f; echo live > /tmp/f; sleep 300")
		mp := c.ok(t, "volume", "inspect", "-f", "{{.Mountpoint}}", tmp)
		waitFor(t, 10*time.Second, "the container's writes", func() bool { _, err := os.Stat(filepath.Join(mp, "f")); return err == nil })
		if err := d.Kill9(); err != nil {
			t.Fatal(err)
		}
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		if got := c.ok(t, "exec", name, "cat", "/data/f", "/tmp/f"); got != "kept\nlive" {
			t.Errorf("after kill -9 the container reads %q", got)
		}
		c.run(t, "volume", "rm", vol).Fails(t, 1, "volume is in use")
		if got := c.ok(t, "volume", "ls", "-q", "--filter", "dangling=false", "--filter", "name=k9"); !strings.Contains(got, vol) || !strings.Contains(got, tmp) {
			t.Errorf("volumes in use after the restart: %q", got)
		}
		c.ok(t, "rm", "-f", name)
		waitFor(t, 10*time.Second, "the tmpfs volume to be unmounted", func() bool { return !isMounted(t, mp) })
		if got := c.ok(t, "run", "--rm", "-v", vol+":/data", "busybox", "cat", "/data/f"); got != "kept" {
			t.Errorf("named volume after kill -9 holds %q", got)
		}
		c.ok(t, "volume", "rm", vol, tmp)
	})
}

// TestVolumeListFilters: volume ls --filter dangling, name, label and
// driver with -q and --format; rm refuses a volume in use (409), -f does
// not change that but makes a missing volume no error.
func TestVolumeListFilters(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		tag := unique("lsf")
		used, idle := tag+"-used", tag+"-idle"
		rmVolumeOnCleanup(t, d, used)
		rmVolumeOnCleanup(t, d, idle)
		user := unique("lsfuser")
		rmOnCleanup(t, d, user)
		c.ok(t, "volume", "create", "--label", "k="+tag, idle)
		c.ok(t, "create", "--name", user, "-v", used+":/data", "busybox", "true")
		for _, tt := range []struct {
			filters []string
			want    string
		}{
			{[]string{"dangling=true"}, idle},
			{[]string{"dangling=false"}, used},
			{[]string{"dangling=1"}, idle},
			{[]string{"label=k=" + tag}, idle},
			{[]string{"label=k"}, idle},
			{[]string{"driver=local"}, idle + "\n" + used},
			{[]string{"driver=other"}, ""},
		} {
			args := []string{"volume", "ls", "-q", "--filter", "name=" + tag}
			for _, f := range tt.filters {
				args = append(args, "--filter", f)
			}
			if got := c.ok(t, args...); got != tt.want {
				t.Errorf("volume ls %v = %q, want %q", tt.filters, got, tt.want)
			}
		}
		if got := c.ok(t, "volume", "ls", "--filter", "name="+tag, "--format", "{{.Name}}:{{.Driver}}:{{.Labels}}"); got != idle+":local:k="+tag+"\n"+used+":local:" {
			t.Errorf("volume ls --format = %q", got)
		}
		c.run(t, "volume", "ls", "--filter", "dangling=maybe").Fails(t, 1, "invalid filter 'dangling=maybe'")
		c.run(t, "volume", "ls", "--filter", "colour=red").Fails(t, 1, "invalid filter 'colour'")
		c.run(t, "volume", "rm", used).Fails(t, 1, "volume is in use")
		c.run(t, "volume", "rm", "-f", used).Fails(t, 1, "volume is in use")
		c.ok(t, "volume", "rm", "-f", unique("neverthere"))
		c.run(t, "volume", "rm", unique("neverthere")).Fails(t, 1, "no such volume")
	})
}
