//go:build linux

package integration

import (
	"archive/tar"
	"crypto/rand"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/go-units"

	"github.com/berth-project/berth/internal/testutil"
)

// diskUsed is what du says the data root takes, in bytes.
func diskUsed(t *testing.T, d *testutil.Daemon) int64 {
	t.Helper()
	out, err := exec.Command("du", "-s", "--block-size=1", d.DataRoot).Output()
	if err != nil {
		t.Fatalf("du %s: %v", d.DataRoot, err)
	}
	n, err := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var totalReclaimed = regexp.MustCompile(`(?m)^Total reclaimed space: (\S+)$`)

// reclaimed reads the closing line of a prune's output.
func reclaimed(t *testing.T, out string) int64 {
	t.Helper()
	m := totalReclaimed.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no total in prune output:\n%s", out)
	}
	n, err := units.FromHumanSize(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// randomBytes is n bytes nothing compresses.
func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkFreed fails t unless what a prune reported is what du saw go: never
// more than was freed, and not far less (the rest is metadata: records,
// logs, folders).
func checkFreed(t *testing.T, what string, reported, before, after int64) {
	t.Helper()
	freed := before - after
	t.Logf("%s: reported %d bytes reclaimed, du shows %d freed (%d -> %d)", what, reported, freed, before, after)
	if reported > freed+freed/50 {
		t.Errorf("%s reported %s reclaimed but only %s left the disk", what, units.HumanSize(float64(reported)), units.HumanSize(float64(freed)))
	}
	if reported < freed*7/10 {
		t.Errorf("%s reported %s reclaimed while %s left the disk", what, units.HumanSize(float64(reported)), units.HumanSize(float64(freed)))
	}
}

// TestContainerPrune: container prune removes the stopped and created
// containers its filters select (label, label!, until), never a running
// one, and reports the size of their rw layers.
func TestContainerPrune(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		tag := unique("prune")
		running, exited, created, kept := unique("prun"), unique("pexit"), unique("pcreated"), unique("pkept")
		for _, n := range []string{running, exited, created, kept} {
			rmOnCleanup(t, d, n)
		}
		c.ok(t, "run", "-d", "--name", running, "--label", "t="+tag, "busybox", "sleep", "300")
		c.ok(t, "run", "--name", exited, "--label", "t="+tag, "busybox", "dd", "if=/dev/zero", "of=/big", "bs=1024", "count=1024")
		c.ok(t, "create", "--name", created, "--label", "t="+tag, "busybox", "true")
		c.ok(t, "run", "--name", kept, "--label", "t="+tag, "--label", "keep=yes", "busybox", "true")
		exitedID := c.ok(t, "inspect", "-f", "{{.Id}}", exited)
		createdID := c.ok(t, "inspect", "-f", "{{.Id}}", created)

		// nothing of ours is older than an hour
		out := c.ok(t, "container", "prune", "-f", "--filter", "label=t="+tag, "--filter", "until=1h")
		if out != "Total reclaimed space: 0B" {
			t.Errorf("prune until=1h printed %q", out)
		}
		out = c.ok(t, "container", "prune", "-f", "--filter", "label=t="+tag, "--filter", "label!=keep")
		if !strings.Contains(out, "Deleted Containers:\n") || !strings.Contains(out, exitedID+"\n") || !strings.Contains(out, createdID+"\n") || len(lines(out)) != 5 {
			t.Errorf("container prune printed %q", out)
		}
		if !strings.HasSuffix(out, "\n\nTotal reclaimed space: "+units.HumanSize(1<<20)) {
			t.Errorf("container prune output %q, want the 1 MiB the exited container wrote reclaimed", out)
		}
		for _, n := range []string{exited, created} {
			c.run(t, "inspect", n).Fails(t, 1, "No such")
		}
		for _, n := range []string{running, kept} {
			c.ok(t, "inspect", n)
		}
		c.run(t, "container", "prune", "-f", "--filter", "colour=red").Fails(t, 1, "invalid filter 'colour'")
		if out := c.runStdin(t, "n\n", "container", "prune").Success(t).Out(); out != "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N]" {
			t.Errorf("prompt = %q", out)
		}
		c.ok(t, "inspect", kept)
	})
}

// TestSystemDf: system df counts images, containers, volumes and the
// (empty) build cache with their sizes and what could be reclaimed; -v
// lists them. A private daemon, so that the totals are this test's.
func TestSystemDf(t *testing.T) {
	d := ownDaemon(t)
	name, vol := unique("df"), unique("dfvol")
	d.Berth(t, "run", "--name", name, "-v", vol+":/data", "busybox", "sh", "-c", "dd if=/dev/zero of=/rw bs=1024 count=1024 && dd if=/dev/zero of=/data/v bs=1024 count=2048").Success(t)
	d.Berth(t, "volume", "create", unique("dfidle")).Success(t)
	imgSize := d.Berth(t, "image", "inspect", "-f", "{{.Size}}", "busybox").Success(t).Out()
	size, _ := strconv.ParseInt(imgSize, 10, 64)
	eachCLI(t, d, func(t *testing.T, c cli) {
		got := lines(c.ok(t, "system", "df"))
		want := []string{
			"TYPE TOTAL ACTIVE SIZE RECLAIMABLE",
			"Images 1 1 " + units.HumanSize(float64(size)) + " 0B (0%)",
			"Containers 1 0 1.049MB 1.049MB (100%)",
			"Local Volumes 2 1 2.097MB 0B (0%)",
			"Build Cache 0 0 0B 0B",
		}
		for i := range got {
			got[i] = strings.Join(strings.Fields(got[i]), " ")
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("system df =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got := c.ok(t, "system", "df", "--format", "{{.Type}}:{{.TotalCount}}"); got != "Images:1\nContainers:1\nLocal Volumes:2\nBuild Cache:0" {
			t.Errorf("system df --format = %q", got)
		}
		verbose := c.ok(t, "system", "df", "-v")
		for _, part := range []string{"Images space usage:", "Containers space usage:", "Local Volumes space usage:", "Build cache usage: 0B", name, vol} {
			if !strings.Contains(verbose, part) {
				t.Errorf("system df -v lacks %q:\n%s", part, verbose)
			}
		}
		if !regexp.MustCompile(`(?m)^` + vol + `\s+1\s+2\.097MB$`).MatchString(verbose) {
			t.Errorf("system df -v volume line:\n%s", verbose)
		}
	})
}

// TestSystemPruneFreesDisk: system prune -a --volumes removes the stopped
// containers, their anonymous volumes, the unused images with their
// layers and blobs, and what it reports reclaimed is what du sees leave
// the data root. A private daemon, whose data root only this test changes.
func TestSystemPruneFreesDisk(t *testing.T) {
	d := ownDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		if err := d.ImportBusybox(d.BusyboxTar(t)); err != nil {
			t.Fatal(err)
		}
		big := importBusyboxPlus(t, d, "", tarEntry{header: tar.Header{Name: "big.bin", Typeflag: tar.TypeReg, Mode: 0o644}, content: randomBytes(t, 4<<20)})
		c.ok(t, "run", "--name", unique("spexit"), big, "sh", "-c", "dd if=/dev/urandom of=/rw.bin bs=1024 count=3072 2>/dev/null")
		c.ok(t, "run", "--name", unique("spanon"), "-v", "/data", "busybox", "sh", "-c", "dd if=/dev/urandom of=/data/v.bin bs=1024 count=2048 2>/dev/null")
		named := unique("spnamed")
		c.ok(t, "run", "--rm", "-v", named+":/data", "busybox", "sh", "-c", "dd if=/dev/urandom of=/data/n.bin bs=1024 count=1024 2>/dev/null")

		prompt := c.runStdin(t, "n\n", "system", "prune", "-a", "--volumes", "--filter", "label!=x")
		if want := "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all images without at least one container associated to them\n  - all build cache\n\n  Items to be pruned will be filtered with:\n  - label!=x\n\nAre you sure you want to continue? [y/N]"; prompt.Out() != want {
			t.Errorf("prompt = %q, want %q", prompt.Out(), want)
		}

		before := diskUsed(t, d)
		out := c.ok(t, "system", "prune", "-a", "-f", "--volumes")
		after := diskUsed(t, d)
		for _, part := range []string{"Deleted Containers:\n", "Deleted Volumes:\n", "Deleted Images:\n", "untagged: " + big} {
			if !strings.Contains(out, part) {
				t.Errorf("system prune output lacks %q:\n%s", part, out)
			}
		}
		reported := reclaimed(t, out)
		// 4 MiB image layer (blob and snapshot), 3 MiB rw layer, 2 MiB anonymous volume
		if reported < 12<<20 {
			t.Errorf("reported %s, want at least the 12 MiB written", units.HumanSize(float64(reported)))
		}
		checkFreed(t, "system prune", reported, before, after)
		if got := c.ok(t, "ps", "-aq"); got != "" {
			t.Errorf("containers left: %q", got)
		}
		if got := c.ok(t, "images", "-q"); got != "" {
			t.Errorf("images left: %q", got)
		}
		// a named volume is not anonymous: it stays
		if got := c.ok(t, "volume", "ls", "-q"); got != named {
			t.Errorf("volumes left: %q, want %s", got, named)
		}
		c.ok(t, "volume", "rm", named)
	})
}

// TestImagePruneFreesDisk: image prune -a reports the bytes of the
// snapshots and blobs it removed, which du sees leave the data root.
func TestImagePruneFreesDisk(t *testing.T) {
	d := ownDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		// two images sharing busybox's files, each with 3 MiB of its own
		a := importBusyboxPlus(t, d, "", tarEntry{header: tar.Header{Name: "a.bin", Typeflag: tar.TypeReg, Mode: 0o644}, content: randomBytes(t, 3<<20)})
		b := importBusyboxPlus(t, d, "", tarEntry{header: tar.Header{Name: "b.bin", Typeflag: tar.TypeReg, Mode: 0o644}, content: randomBytes(t, 3<<20)})
		user := unique("ipuser")
		rmOnCleanup(t, d, user)
		c.ok(t, "create", "--name", user, b, "true")
		before := diskUsed(t, d)
		out := c.ok(t, "image", "prune", "-a", "-f")
		after := diskUsed(t, d)
		if !strings.Contains(out, "untagged: "+a) || strings.Contains(out, b) {
			t.Errorf("image prune -a printed:\n%s", out)
		}
		reported := reclaimed(t, out)
		if reported < 3<<20 {
			t.Errorf("reported %s, want at least the 3 MiB of %s", units.HumanSize(float64(reported)), a)
		}
		checkFreed(t, "image prune", reported, before, after)
		c.ok(t, "image", "inspect", b)
		c.ok(t, "rm", user)
	})
}
