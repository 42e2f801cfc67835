package integration

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-project/berth/internal/testutil"
)

// TestUsernsRemap: --userns-remap as dockerd. "default" creates berthremap
// with a subordinate range; a named user's ranges are used as they are.
// Container root is the range's first ID on the host: image files, volume
// files and files written through a bind mount belong to it, and
// --userns=host opts a container out. The subtests run in turn: both edit
// the host's user database.
func TestUsernsRemap(t *testing.T) {
	t.Parallel()
	testutil.RequiresRoot(t)
	t.Run("default", testUsernsRemapDefault)
	t.Run("user", testUsernsRemapUser)
}

func testUsernsRemapDefault(t *testing.T) {
	const name = "berthremap"
	existed := passwdHas(t, name)
	if !existed {
		t.Cleanup(func() {
			shadowTool(t, "userdel", name)
			for _, f := range []string{"/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid"} {
				if data, _ := os.ReadFile(f); strings.Contains(string(data), name+":") {
					t.Errorf("%s still names %s after userdel", f, name)
				}
			}
		})
	}
	d := testutil.StartDaemon(t, testutil.WithArgs("--userns-remap", "default"))
	d.LoadBusybox(t)

	if !passwdHas(t, name) {
		t.Fatalf("berthd --userns-remap default made no %s user", name)
	}
	uid, gid := remapRoot(t, d)
	for _, f := range []struct {
		path string
		id   int
	}{{"/etc/subuid", uid}, {"/etc/subgid", gid}} {
		data, _ := os.ReadFile(f.path)
		if want := fmt.Sprintf("%s:%d:65536\n", name, f.id); !strings.Contains(string(data), want) {
			t.Errorf("%s lacks %q:\n%s", f.path, want, data)
		}
	}
	mapping := fmt.Sprintf("0 %d 65536", uid)

	eachCLI(t, d, func(t *testing.T, c cli) {
		if out := c.ok(t, "info", "--format", "{{.SecurityOptions}}"); !strings.Contains(out, "name=userns") {
			t.Errorf("info SecurityOptions %s, want name=userns", out)
		}

		// container root is the range's first ID; the image's files are root's inside
		out := c.ok(t, "run", "--rm", "busybox", "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u:%g /bin/busybox /etc/hosts /")
		if got := strings.Fields(out); strings.Join(got, " ") != mapping+" "+strings.Replace(mapping, strconv.Itoa(uid), strconv.Itoa(gid), 1)+" 0 0:0 0:0 0:0" {
			t.Errorf("maps, id and owners in a remapped container:\n%s\nwant uid/gid maps %q, id 0 and 0:0 owners", out, mapping)
		}

		// what dockerd refuses in a user namespace
		c.run(t, "run", "--rm", "--privileged", "busybox", "true").Fails(t, 125, "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode")
	})

	// the rest with one client: it is the daemon's doing
	berth := cli{name: "berth", d: d}
	berth.run(t, "run", "--rm", "--network", "host", "busybox", "true").Fails(t, 125, "cannot share the host's network namespace when user namespaces are enabled")
	berth.run(t, "run", "--rm", "--pid", "host", "busybox", "true").Fails(t, 125, "cannot share the host PID namespace when user namespaces are enabled")

	// --userns=host: no user namespace (so --privileged is allowed), on
	// the same remapped files
	out := berth.ok(t, "run", "--rm", "--privileged", "--userns=host", "busybox", "sh", "-c", "cat /proc/self/uid_map; stat -c %u /bin/busybox")
	if got := strings.Fields(out); strings.Join(got, " ") != "0 0 4294967295 "+strconv.Itoa(uid) {
		t.Errorf("--userns=host: %q, want the host's map and busybox owned by %d", out, uid)
	}

	// a bind mount: what container root writes is the mapped root's on the
	// host; a host folder of the host's root is not its to write. A volume's
	// files are root's inside, the mapped root's outside. Root keeps its
	// capabilities over its own network namespace (port 80, raw ping).
	own := t.TempDir()
	if err := os.Chown(own, uid, gid); err != nil {
		t.Fatal(err)
	}
	vol := unique("vol")
	t.Cleanup(func() { d.Berth(t, "volume", "rm", "-f", vol) })
	ctr, img := unique("commit"), unique("img")
	out = berth.ok(t, "run", "--name", ctr, "-v", own+":/mnt", "-v", vol+":/vol", "busybox", "sh", "-c",
		"touch /mnt/f /vol/g && stat -c %u:%g /vol/g; nc -l -p 80 & sleep 0.3; kill $! && echo bound; ping -c1 -W2 127.0.0.1 >/dev/null && echo pinged;"+
			"mkdir /data && touch /data/f && chown 1000:1000 /data/f")
	if out != "0:0\nbound\npinged" {
		t.Errorf("volume file owner, port 80 and ping as remapped root: %q, want 0:0, bound and pinged", out)
	}
	if u, g := ownerOf(t, filepath.Join(own, "f")); u != uid || g != gid {
		t.Errorf("file made through a bind mount is %d:%d on the host, want %d:%d", u, g, uid, gid)
	}
	mp := berth.ok(t, "volume", "inspect", "-f", "{{.Mountpoint}}", vol)
	for _, p := range []string{mp, filepath.Join(mp, "g")} {
		if u, g := ownerOf(t, p); u != uid || g != gid {
			t.Errorf("volume %s is %d:%d on the host, want %d:%d", p, u, g, uid, gid)
		}
	}
	berth.run(t, "run", "--rm", "-v", t.TempDir()+":/mnt", "busybox", "touch", "/mnt/f").Fails(t, 1, "Permission denied")

	// cp and export show container IDs, as dockerd's archives
	for _, args := range [][]string{{"cp", ctr + ":/data", "-"}, {"export", ctr}} {
		owners := tarOwners(t, strings.NewReader(berth.run(t, args...).Success(t).Stdout))
		if owners["data/f"] != "1000:1000" || owners["data/"] != "0:0" {
			t.Errorf("%s: owners %v, want data/ 0:0 and data/f 1000:1000", strings.Join(args, " "), owners)
		}
	}

	// commit shifts owners back: the layer holds container IDs
	d.Berth(t, "commit", ctr, img).Success(t)
	t.Cleanup(func() { d.Berth(t, "rmi", "-f", img) })
	archive := filepath.Join(t.TempDir(), "img.tar")
	d.Berth(t, "save", "-o", archive, img).Success(t)
	owners := layerOwners(t, archive)
	if owners["data/f"] != "1000:1000" || owners["data/"] != "0:0" {
		t.Errorf("committed layer owners %v, want data/ 0:0 and data/f 1000:1000", owners)
	}
}

func testUsernsRemapUser(t *testing.T) {
	name := "bru" + strings.TrimPrefix(unique(""), "it--")
	shadowTool(t, "useradd", "-r", "-U", "-s", "/bin/false", name)
	t.Cleanup(func() { shadowTool(t, "userdel", name) })
	shadowTool(t, "usermod", "-v", "300000-300999", "-w", "310000-310999", name)

	// daemon.json's key, a user:group pair
	d := testutil.StartDaemon(t, testutil.WithConfig(fmt.Sprintf(`{"userns-remap": %q}`, name+":"+name)))
	d.LoadBusybox(t)
	if uid, gid := remapRoot(t, d); uid != 300000 || gid != 310000 {
		t.Errorf("data root of %s's ranges is %d.%d, want 300000.310000", name, uid, gid)
	}
	out := d.Berth(t, "run", "--rm", "busybox", "cat", "/proc/self/uid_map", "/proc/self/gid_map").Success(t).Out()
	if got := strings.Join(strings.Fields(out), " "); got != "0 300000 1000 0 310000 1000" {
		t.Errorf("maps %q, want the user's ranges", got)
	}

	bad, err := testutil.NewDaemon(testutil.WithArgs("--userns-remap", name+"-nosuch"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bad.Close() })
	if err := bad.Start(); err == nil {
		t.Error("berthd started with a remap user that does not exist")
	} else if want := fmt.Sprintf("Error during uid lookup for %q", name+"-nosuch"); !strings.Contains(bad.Log(), want) {
		t.Errorf("berthd's error for a missing remap user, want %q:\n%s", want, bad.LogTail(10))
	}
}

// remapRoot is the host uid and gid of the daemon's container root, read
// from its data root (<data-root>/<uid>.<gid>), which info shows.
func remapRoot(t *testing.T, d *testutil.Daemon) (int, int) {
	t.Helper()
	root := d.Berth(t, "info", "--format", "{{.DockerRootDir}}").Success(t).Out()
	if filepath.Dir(root) != d.DataRoot {
		t.Fatalf("Docker Root Dir %s, want a folder of %s", root, d.DataRoot)
	}
	u, g, _ := strings.Cut(filepath.Base(root), ".")
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	if err := errors.Join(err1, err2); err != nil || uid == 0 || gid == 0 {
		t.Fatalf("Docker Root Dir %s is not <data-root>/<uid>.<gid> of a remapped root: %v", root, err)
	}
	if u, g := ownerOf(t, root); u != uid || g != gid {
		t.Errorf("%s is owned by %d:%d, want the remapped root", root, u, g)
	}
	return uid, gid
}

func ownerOf(t *testing.T, path string) (int, int) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

func passwdHas(t *testing.T, name string) bool {
	t.Helper()
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	return strings.HasPrefix(string(data), name+":") || strings.Contains(string(data), "\n"+name+":")
}

// shadowTool runs useradd, usermod or userdel, retrying while another
// test's tool holds the lock on the user database.
func shadowTool(t *testing.T, args ...string) {
	t.Helper()
	var out []byte
	var err error
	for range 20 {
		if out, err = exec.Command(args[0], args[1:]...).CombinedOutput(); err == nil || !strings.Contains(string(out), "lock") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("%s: %v %s", strings.Join(args, " "), err, out)
	}
}

// layerOwners reads an image archive made by save and returns uid:gid of
// every entry of its last layer, by name.
func layerOwners(t *testing.T, archive string) map[string]string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	layers := map[string][]byte{}
	eachTarEntry(t, f, func(hdr *tar.Header, data []byte) { layers[hdr.Name] = data })
	manifest := layers["manifest.json"]
	var m []struct{ Layers []string }
	if err := json.Unmarshal(manifest, &m); err != nil || len(m) != 1 || len(m[0].Layers) == 0 {
		t.Fatalf("manifest.json %s: %v", manifest, err)
	}
	last := m[0].Layers[len(m[0].Layers)-1]
	return tarOwners(t, bytes.NewReader(layers[last]))
}

// tarOwners returns uid:gid of every entry of a tar, by name.
func tarOwners(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	owners := map[string]string{}
	eachTarEntry(t, r, func(hdr *tar.Header, _ []byte) { owners[hdr.Name] = fmt.Sprintf("%d:%d", hdr.Uid, hdr.Gid) })
	return owners
}

// eachTarEntry calls fn with every entry of the tar r and its content.
func eachTarEntry(t *testing.T, r io.Reader, fn func(*tar.Header, []byte)) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		fn(hdr, data)
	}
}
