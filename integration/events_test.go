//go:build linux

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

// eventLine is one line of `events --format '{{json .}}'`: the message
// and the legacy top-level fields both CLIs print for container and image
// events.
type eventLine struct {
	events.Message
	Status string `json:"status"`
	ID     string `json:"id"`
	From   string `json:"from"`
}

// String is "<type> <action> <attr>=<value>..." with the attributes keys
// asks for, the form the tests compare.
func (e eventLine) show(keys ...string) string {
	s := string(e.Type) + " " + string(e.Action)
	for _, k := range keys {
		if v, ok := e.Actor.Attributes[k]; ok {
			s += " " + k + "=" + v
		}
	}
	return s
}

// timestamp is a since/until value as both CLIs pass it through: unix
// seconds with nanoseconds.
func timestamp(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// replay runs `events --since since --until now` with args (filters) and
// returns the events, in order.
func replay(t *testing.T, c cli, since time.Time, args ...string) []eventLine {
	t.Helper()
	args = append([]string{"events", "--since", timestamp(since), "--until", timestamp(time.Now()), "--format", "{{json .}}"}, args...)
	var out []eventLine
	for _, l := range lines(c.ok(t, args...)) {
		var e eventLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%s printed %q: %v", c.name, l, err)
		}
		out = append(out, e)
	}
	return out
}

// about keeps the events of container id: its own, and the network and
// volume events that name it.
func about(evs []eventLine, id string) []eventLine {
	var out []eventLine
	for _, e := range evs {
		if e.Actor.ID == id || e.Actor.Attributes["container"] == id {
			out = append(out, e)
		}
	}
	return out
}

func shows(evs []eventLine, keys ...string) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.show(keys...))
	}
	return out
}

// expectCount fails t unless the events since since that pass filters
// number want.
func expectCount(t *testing.T, c cli, since time.Time, want int, filters ...string) {
	t.Helper()
	if got := shows(replay(t, c, since, filterArgs(filters)...)); len(got) != want {
		t.Errorf("--filter %q: %q, want %d events", filters, got, want)
	}
}

// filterArgs turns key=value filters into --filter flags.
func filterArgs(filters []string) []string {
	var args []string
	for _, f := range filters {
		args = append(args, "--filter", f)
	}
	return args
}

// inOrder fails t unless want is a subsequence of got.
func inOrder(t *testing.T, got []string, want ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("events %q\ndo not hold, in order, %q (missing %q)", got, want, want[i])
	}
}

// TestEventsContainerLifecycle: `run --rm` logs create, attach, connect,
// start, die (exitCode), disconnect and destroy in docker's order, with the
// container's image, name and labels as attributes, and the legacy
// status/id/from fields.
func TestEventsContainerLifecycle(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("ev")
		rmOnCleanup(t, d, name)
		since := time.Now()
		c.run(t, "run", "--rm", "--name", name, "-l", "com.example.k=v", "busybox", "sh", "-c", "exit 3").Fails(t, 3)

		var id string
		all := replay(t, c, since)
		for _, e := range all {
			if e.Type == events.ContainerEventType && e.Action == events.ActionCreate && e.Actor.Attributes["name"] == name {
				id = e.Actor.ID
			}
		}
		if !fullID.MatchString(id) {
			t.Fatalf("no create event for %s among %d events", name, len(all))
		}
		got := shows(about(all, id), "exitCode", "name")
		want := []string{
			"container create name=" + name,
			"container attach name=" + name,
			"network connect name=bridge",
			"container start name=" + name,
			"container die exitCode=3 name=" + name,
			"network disconnect name=bridge",
			"container destroy name=" + name,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("events of %s:\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, e := range about(all, id) {
			switch e.Type {
			case events.ContainerEventType:
				if e.Actor.Attributes["image"] != "busybox" || e.Actor.Attributes["com.example.k"] != "v" {
					t.Errorf("%s: attributes %v, want image=busybox and the label", e.Action, e.Actor.Attributes)
				}
				if e.Status != string(e.Action) || e.ID != id || e.From != "busybox" {
					t.Errorf("%s: legacy fields status=%q id=%q from=%q", e.Action, e.Status, e.ID, e.From)
				}
			case events.NetworkEventType:
				if e.Actor.Attributes["type"] != "bridge" || !fullID.MatchString(e.Actor.ID) {
					t.Errorf("network %s: actor %+v", e.Action, e.Actor)
				}
			}
			if e.Scope != "local" || e.TimeNano < since.UnixNano() || e.Time != e.TimeNano/1e9 {
				t.Errorf("%s: scope %q time %d timeNano %d", e.Action, e.Scope, e.Time, e.TimeNano)
			}
		}

		// the CLIs' relative forms, as users type them: "0s" is now in
		// whole seconds, so wait for the next second first
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		if got := c.ok(t, "events", "--since", "1m", "--until", "0s", "--filter", "container="+id, "--format", "{{.Action}}"); got != "create\nattach\nstart\ndie\ndestroy" {
			t.Errorf("events --since 1m --until 0s --filter container=%s: %q", id, got)
		}

		// docker's default line: time, type, action, id, sorted attributes
		out := c.ok(t, "events", "--since", timestamp(since), "--until", timestamp(time.Now()),
			"--filter", "container="+id, "--filter", "event=start")
		re := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container start ` + id +
			` \(com\.example\.k=v, image=busybox, name=` + regexp.QuoteMeta(name) + `\)$`)
		if !re.MatchString(out) {
			t.Errorf("default format printed %q", out)
		}
	})
}

// TestEventsContainerActions: stop, kill, restart, rename and exec
// log docker's actions and attributes.
func TestEventsContainerActions(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name, renamed := unique("evact"), unique("evren")
		rmOnCleanup(t, d, name)
		rmOnCleanup(t, d, renamed)
		since := time.Now()
		id := c.ok(t, "run", "-d", "--name", name, "busybox", "sleep", "300")
		c.run(t, "exec", name, "sh", "-c", "exit 5").Fails(t, 5)
		c.ok(t, "kill", "-s", "USR1", name) // pid 1 without a handler: ignored
		c.ok(t, "rename", name, renamed)
		c.ok(t, "restart", "-t", "1", renamed) // SIGTERM ignored too: killed after 1s
		c.ok(t, "stop", "-t", "1", renamed)
		c.ok(t, "rm", renamed)

		evs := about(replay(t, c, since), id)
		inOrder(t, shows(evs, "signal", "exitCode", "oldName", "name"),
			"container create name="+name,
			"container start name="+name,
			"container exec_create: sh -c exit 5 name="+name,
			"container exec_start: sh -c exit 5 name="+name,
			"container exec_die exitCode=5 name="+name,
			"container kill signal=10 name="+name,
			"container rename oldName=/"+name+" name="+renamed,
			"container kill signal=15 name="+renamed,
			"container die exitCode=137 name="+renamed,
			"container stop name="+renamed,
			"container start name="+renamed,
			"container restart name="+renamed,
			"container kill signal=15 name="+renamed,
			"container kill signal=9 name="+renamed, // the grace period is over
			"container die exitCode=137 name="+renamed,
			"container stop name="+renamed,
			"container destroy name="+renamed,
		)
		var execIDs []string
		for _, e := range evs {
			if strings.HasPrefix(string(e.Action), "exec_") {
				execIDs = append(execIDs, e.Actor.Attributes["execID"])
			}
		}
		if len(execIDs) != 3 || execIDs[0] == "" || execIDs[0] != execIDs[1] || execIDs[1] != execIDs[2] {
			t.Errorf("exec events' execIDs %q, want one id thrice", execIDs)
		}
		for _, e := range evs {
			if e.Action == events.ActionDie && e.Actor.Attributes["execDuration"] == "" {
				t.Errorf("die without execDuration: %v", e.Actor.Attributes)
			}
		}
	})
}

// TestEventsFilters: type, event (several OR-ed; exec_start matching its
// prefixed actions), container, label and image filters select as docker's.
func TestEventsFilters(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		a, b := unique("evfa"), unique("evfb")
		rmOnCleanup(t, d, a)
		rmOnCleanup(t, d, b)
		since := time.Now()
		idA := c.ok(t, "run", "-d", "--name", a, "-l", "evtest="+a, "busybox", "sleep", "300")
		idB := c.ok(t, "create", "--name", b, "-l", "evtest="+b, "busybox", "true")
		c.ok(t, "exec", a, "true")

		check := func(want []string, keys []string, filters ...string) {
			t.Helper()
			got := shows(replay(t, c, since, filterArgs(filters)...), keys...)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("--filter %q:\n%s\nwant\n%s", filters, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		check([]string{"container create name=" + a, "container start name=" + a, "container exec_create: true name=" + a,
			"container exec_start: true name=" + a, "container exec_die name=" + a},
			[]string{"name"}, "container="+a)
		check([]string{"container create name=" + b}, []string{"name"}, "container="+idB[:12])
		check([]string{"container create name=" + a, "container create name=" + b}, []string{"name"},
			"event=create", "type=container", "label=evtest")
		check([]string{"container create name=" + a, "container start name=" + a, "container create name=" + b}, []string{"name"},
			"event=start", "event=create", "container="+b, "container="+a)
		check([]string{"container exec_start: true name=" + a}, []string{"name"}, "event=exec_start", "container="+a)
		check([]string{"container create name=" + b}, []string{"name"}, "label=evtest="+b)
		check(nil, nil, "label=evtest="+b, "type=network")
		// container= keeps only a container's own events, not the network's
		// connect that names it
		check(nil, nil, "type=network", "event=connect", "network=bridge", "container="+idA)
		expectCount(t, c, since, 1, "image=busybox", "label=evtest="+a, "event=start")
		expectCount(t, c, since, 0, "image=alpine", "label=evtest="+a)
	})
}

// TestEventsNetworkAndVolume: network create/connect/disconnect/destroy and
// volume create/mount/unmount/destroy, with docker's attributes.
func TestEventsNetworkAndVolume(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		net, vol, name := unique("evnet"), unique("evvol"), unique("evnv")
		t.Cleanup(func() { d.Berth(t, "network", "rm", net); d.Berth(t, "volume", "rm", vol) })
		since := time.Now()
		netID := c.ok(t, "network", "create", net)
		c.ok(t, "volume", "create", vol)
		c.ok(t, "run", "--rm", "--name", name, "--network", net, "-v", vol+":/data:ro", "busybox", "true")
		c.ok(t, "network", "rm", net)
		c.ok(t, "volume", "rm", vol)

		all := replay(t, c, since)
		var id string
		for _, e := range all {
			if e.Action == events.ActionCreate && e.Actor.Attributes["name"] == name {
				id = e.Actor.ID
			}
		}
		var got []string
		for _, e := range all {
			if e.Actor.ID == netID || e.Actor.ID == vol || e.Actor.ID == id && id != "" {
				got = append(got, e.show("name", "type", "container", "driver", "destination", "read/write", "propagation"))
			}
		}
		inOrder(t, got,
			"network create name="+net+" type=bridge",
			"volume create driver=local",
			"container create name="+name,
			"network connect name="+net+" type=bridge container="+id,
			"volume mount container="+id+" driver=local destination=/data read/write=false propagation=",
			"container start name="+name,
			"container die name="+name,
			"network disconnect name="+net+" type=bridge container="+id,
			"volume unmount container="+id+" driver=local",
			"container destroy name="+name,
			"network destroy name="+net+" type=bridge",
			"volume destroy driver=local",
		)
		expectCount(t, c, since, 4, "volume="+vol)
		expectCount(t, c, since, 4, "network="+net)
	})
}

// TestEventsImages: tag, untag, save and load log image events, the legacy
// status/id fields included.
func TestEventsImages(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		repo := unique("evimg")
		tarball := filepath.Join(t.TempDir(), "img.tar")
		busyboxID := c.ok(t, "image", "inspect", "-f", "{{.Id}}", "busybox")
		since := time.Now()
		c.ok(t, "tag", "busybox", repo+":1")
		c.ok(t, "save", "-o", tarball, repo+":1")
		c.ok(t, "rmi", repo+":1")
		c.ok(t, "load", "-i", tarball)
		t.Cleanup(func() { d.Berth(t, "rmi", repo+":1") })
		if _, err := os.Stat(tarball); err != nil {
			t.Fatal(err)
		}

		var got []string
		for _, e := range replay(t, c, since, "--filter", "type=image") {
			if e.Actor.ID != busyboxID {
				continue
			}
			if e.Status != string(e.Action) || e.ID != busyboxID {
				t.Errorf("%s: legacy status %q id %q", e.Action, e.Status, e.ID)
			}
			got = append(got, e.show("name"))
		}
		inOrder(t, got,
			"image tag name="+repo+":1",
			"image save name="+busyboxID,
			"image untag name="+busyboxID,
			"image load name="+busyboxID,
		)
		expectCount(t, c, since, 1, "image="+repo, "event=tag")
	})
}

// TestEventsStream: without --until the events come as they happen; with
// an --until in the future the stream ends then.
func TestEventsStream(t *testing.T) {
	t.Parallel()
	d := sharedDaemon(t)
	eachCLI(t, d, func(t *testing.T, c cli) {
		name := unique("evstream")
		rmOnCleanup(t, d, name)
		cmd := c.cmd("events", "--filter", "container="+name, "--format", "{{.Status}} {{.Actor.Attributes.name}}")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		got := make(chan string, 16)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				got <- sc.Text()
			}
			close(got)
		}()
		time.Sleep(500 * time.Millisecond) // let the client subscribe
		c.ok(t, "run", "--rm", "--name", name, "busybox", "true")
		for _, want := range []string{"create", "attach", "start", "die", "destroy"} {
			select {
			case line := <-got:
				if line != want+" "+name {
					t.Fatalf("streamed %q, want %q", line, want+" "+name)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no %s event streamed", want)
			}
		}

		// --until alone replays what the log holds, then streams until then
		began := time.Now()
		r := c.run(t, "events", "--until=-2s", "--filter", "container="+name) // two seconds from now
		took := time.Since(began)
		if r.ExitCode != 0 || took < 500*time.Millisecond || took > 8*time.Second || len(lines(r.Out())) != 5 {
			t.Errorf("events --until in 2s: %s after %s, want the 5 events, then the end", r, took)
		}
	})
}
