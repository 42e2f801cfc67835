//go:build linux

package integration

import (
	"strings"
	"testing"
)

func TestImages(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		id := strings.TrimPrefix(c.ok(t, "image", "inspect", "-f", "{{.Id}}", "busybox"), "sha256:")
		rows := lines(c.ok(t, "images"))
		if len(rows) < 2 || strings.Join(strings.Fields(rows[0]), " ") != "REPOSITORY TAG IMAGE ID CREATED SIZE" {
			t.Fatalf("images: %q", rows)
		}
		found := false
		for _, row := range rows[1:] {
			f := strings.Fields(row)
			if len(f) >= 3 && f[0] == "busybox" && f[1] == "latest" && f[2] == id[:12] {
				found = true
			}
		}
		if !found {
			t.Errorf("images lacks busybox latest %s: %q", id[:12], rows)
		}
		if got := lines(c.ok(t, "images", "-q")); !contains(got, id[:12]) {
			t.Errorf("images -q = %q, want %s among them", got, id[:12])
		}
		if got := c.ok(t, "images", "--filter", "reference=busybox", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"); got != "busybox:latest "+id[:12] {
			t.Errorf("--filter reference=busybox = %q", got)
		}
		if got := c.ok(t, "images", "--no-trunc", "-q", "busybox"); got != "sha256:"+id {
			t.Errorf("images --no-trunc -q busybox = %q", got)
		}

		// an untagged import is dangling
		tar := d.BusyboxTar(t)
		dangling := strings.TrimPrefix(c.ok(t, "import", tar), "sha256:")
		if !fullID.MatchString(dangling) {
			t.Fatalf("import printed %q, want sha256:<id>", dangling)
		}
		t.Cleanup(func() { d.Berth(t, "rmi", "-f", dangling) })
		if got := lines(c.ok(t, "images", "--filter", "dangling=true", "-q")); !contains(got, dangling[:12]) {
			t.Errorf("--filter dangling=true = %q, want %s among them", got, dangling[:12])
		}
		if got := lines(c.ok(t, "images", "--filter", "dangling=false", "-q")); contains(got, dangling[:12]) {
			t.Errorf("--filter dangling=false lists the dangling image %s", dangling[:12])
		}
		if got := c.ok(t, "images", "-a", "--filter", "dangling=true", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"); !strings.Contains(got, "<none>:<none> "+dangling[:12]) {
			t.Errorf("dangling image row = %q, want <none>:<none> %s", got, dangling[:12])
		}
	})
}

func TestTagRmi(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		bbID := c.ok(t, "image", "inspect", "-f", "{{.Id}}", "busybox")
		repo := unique("tag")
		c.ok(t, "tag", "busybox", repo+":v1")
		c.ok(t, "tag", "busybox:latest", "localhost:5000/"+repo)
		if got := c.ok(t, "image", "inspect", "-f", "{{.Id}}", repo+":v1"); got != bbID {
			t.Errorf("tagged image id = %q, want %q", got, bbID)
		}
		if got := c.ok(t, "images", "--filter", "reference="+repo, "--format", "{{.Repository}}:{{.Tag}}"); got != repo+":v1" {
			t.Errorf("--filter reference=%s = %q", repo, got)
		}
		// rmi of one tag of a shared image only untags it
		r := c.run(t, "rmi", repo+":v1").Success(t)
		if r.Out() != "Untagged: "+repo+":v1" {
			t.Errorf("rmi %s:v1 printed %q, want only Untagged", repo, r.Out())
		}
		r = c.run(t, "rmi", "localhost:5000/"+repo).Success(t)
		if r.Out() != "Untagged: localhost:5000/"+repo+":latest" {
			t.Errorf("rmi localhost:5000/%s printed %q", repo, r.Out())
		}
		if got := c.ok(t, "image", "inspect", "-f", "{{.Id}}", "busybox"); got != bbID {
			t.Errorf("busybox changed after untagging copies: %q", got)
		}
		c.run(t, "rmi", repo+":v1").Fails(t, 1, "No such image")
		c.run(t, "tag", unique("nosuch"), repo+":v2").Fails(t, 1, "No such image")

		// the last tag of an image deletes it
		own := unique("own") + ":v1"
		id := c.ok(t, "import", d.BusyboxTar(t), own)
		r = c.run(t, "rmi", own).Success(t)
		if !strings.Contains(r.Stdout, "Untagged: "+own) || !strings.Contains(r.Stdout, "Deleted: "+id) {
			t.Errorf("rmi of the last tag printed %q, want Untagged and Deleted: %s", r.Stdout, id)
		}
		c.run(t, "image", "inspect", id).Fails(t, 1, "No such image")

		// an id with several tags needs -f
		own = unique("multi")
		id = c.ok(t, "import", d.BusyboxTar(t), own+":a")
		c.ok(t, "tag", own+":a", own+":b")
		c.run(t, "rmi", strings.TrimPrefix(id, "sha256:")[:12]).Fails(t, 1, "conflict", "must be forced")
		r = c.run(t, "rmi", "-f", strings.TrimPrefix(id, "sha256:")[:12]).Success(t)
		for _, want := range []string{"Untagged: " + own + ":a", "Untagged: " + own + ":b", "Deleted: " + id} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("rmi -f printed %q, want %q", r.Stdout, want)
			}
		}
	})
}

func TestRmiInUse(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		img := unique("inuse") + ":v1"
		id := c.ok(t, "import", d.BusyboxTar(t), img)
		t.Cleanup(func() { d.Berth(t, "rmi", "-f", id) })
		name := unique("user")
		c.ok(t, "create", "--name", name, img, "true")
		rmOnCleanup(t, d, name)
		c.run(t, "rmi", img).Fails(t, 1, "conflict", "is using its referenced image")
		c.run(t, "rmi", id).Fails(t, 1, "conflict")
		if got := c.ok(t, "image", "inspect", "-f", "{{.Id}}", img); got != id {
			t.Errorf("a refused rmi changed the image: %q", got)
		}
		c.ok(t, "rm", name)
		c.ok(t, "rmi", img)
	})
}

func TestHistory(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		rows := lines(c.ok(t, "history", "busybox"))
		if len(rows) < 2 || strings.Join(strings.Fields(rows[0]), " ") != "IMAGE CREATED CREATED BY SIZE COMMENT" {
			t.Fatalf("history: %q", rows)
		}
		id := strings.TrimPrefix(c.ok(t, "image", "inspect", "-f", "{{.Id}}", "busybox"), "sha256:")
		if got := lines(c.ok(t, "history", "-q", "busybox")); len(got) != 1 || got[0] != id[:12] {
			t.Errorf("history -q = %q, want [%s]", got, id[:12])
		}
		if got := c.ok(t, "history", "--format", "{{.Comment}}", "busybox"); got != "Imported from -" {
			t.Errorf("history comment = %q, want %q", got, "Imported from -")
		}
		c.run(t, "history", unique("nosuch")).Fails(t, 1, "No such image")
	})
}
