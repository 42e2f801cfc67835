package userns

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/sys/user"
)

// fakeSystem is a System over temporary files whose useradd and usermod
// edit them as the shadow tools would.
func fakeSystem(t *testing.T, passwd, group, subuid, subgid string) (System, *[]string) {
	dir := t.TempDir()
	s := System{
		Passwd: filepath.Join(dir, "passwd"), Group: filepath.Join(dir, "group"),
		Subuid: filepath.Join(dir, "subuid"), Subgid: filepath.Join(dir, "subgid"),
	}
	for path, data := range map[string]string{s.Passwd: passwd, s.Group: group, s.Subuid: subuid, s.Subgid: subgid} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	appendTo := func(path, line string) error {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteString(line + "\n")
		return err
	}
	var ran []string
	s.Run = func(name string, args ...string) error {
		ran = append(ran, name+" "+strings.Join(args, " "))
		who := args[len(args)-1]
		switch name {
		case "useradd":
			if err := appendTo(s.Passwd, who+":x:998:998::/nonexistent:/bin/false"); err != nil {
				return err
			}
			return appendTo(s.Group, who+":x:998:")
		case "usermod":
			lo, hi, _ := strings.Cut(args[1], "-")
			var a, b int
			fmt.Sscan(lo, &a)
			fmt.Sscan(hi, &b)
			path := map[string]string{"-v": s.Subuid, "-w": s.Subgid}[args[0]]
			return appendTo(path, fmt.Sprintf("%s:%d:%d", who, a, b-a+1))
		}
		return fmt.Errorf("unexpected command %s", name)
	}
	return s, &ran
}

const (
	passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n"
	group  = "root:x:0:\nalice:x:1000:\nstaff:x:50:\nbob:x:1001:\n"
)

func TestResolveDefaultCreatesBerthremap(t *testing.T) {
	s, ran := fakeSystem(t, passwd, group, "alice:100000:65536\n", "alice:100000:65536\nbob:165536:1000\n")
	r, err := s.Resolve("default")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"useradd -r -U -s /bin/false berthremap",
		"usermod -v 165536-231071 berthremap",
		"usermod -w 166536-232071 berthremap",
	}
	if strings.Join(*ran, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(*ran, "\n"), strings.Join(want, "\n"))
	}
	if r.User != DefaultUser || r.Group != DefaultUser {
		t.Errorf("resolved to %s:%s", r.User, r.Group)
	}
	if got := r.Root("/var/lib/berth"); got != "/var/lib/berth/165536.166536" {
		t.Errorf("root %s", got)
	}
	if m := SpecMappings(r.IDs.UIDMaps); len(m) != 1 || m[0].ContainerID != 0 || m[0].HostID != 165536 || m[0].Size != 65536 {
		t.Errorf("uid mappings %+v", m)
	}

	// The second time, berthremap exists: nothing is created again.
	*ran = nil
	again, err := s.Resolve("default")
	if err != nil || len(*ran) != 0 || again.Root("/d") != r.Root("/d") {
		t.Errorf("second resolve: %v, ran %v, %+v", err, *ran, again)
	}
}

func TestResolve(t *testing.T) {
	subs := "alice:200000:65536\n1001:300000:10\n1001:400000:5\n"
	s, _ := fakeSystem(t, passwd, group, subs, subs)
	for _, tc := range []struct {
		spec, user, group string
		uids              []user.IDMap
		err               string
	}{
		{spec: "alice", user: "alice", group: "alice", uids: []user.IDMap{{ID: 0, ParentID: 200000, Count: 65536}}},
		{spec: "alice:staff", user: "alice", group: "staff", uids: []user.IDMap{{ID: 0, ParentID: 200000, Count: 65536}}},
		{spec: "1000:50", user: "alice", group: "staff", uids: []user.IDMap{{ID: 0, ParentID: 200000, Count: 65536}}},
		// ranges listed by uid, several of them, stacked in order
		{spec: "bob", user: "bob", group: "bob", uids: []user.IDMap{{ID: 0, ParentID: 300000, Count: 10}, {ID: 10, ParentID: 400000, Count: 5}}},
		{spec: "root", user: "root", group: "root"},
		{spec: "nobody", err: `Error during uid lookup for "nobody"`},
		{spec: "a:b:c", err: `Invalid user/group specification in --userns-remap: "a:b:c"`},
		{spec: "4242", err: "Uid 4242 has no entry in /etc/passwd"},
		{spec: "alice:nogroup", err: `Error during groupname lookup for "nogroup"`},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			r, err := s.Resolve(tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errdefs.IsInvalidArgument(err) {
					t.Fatalf("err %v, want %q (invalid argument)", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.User != tc.user || r.Group != tc.group || fmt.Sprint(r.IDs.UIDMaps) != fmt.Sprint(tc.uids) {
				t.Errorf("got %s:%s %v, want %s:%s %v", r.User, r.Group, r.IDs.UIDMaps, tc.user, tc.group, tc.uids)
			}
			if r.Enabled() != (tc.uids != nil) {
				t.Errorf("Enabled() = %v", r.Enabled())
			}
		})
	}
}

func TestResolveUserWithoutRanges(t *testing.T) {
	s, _ := fakeSystem(t, passwd, group, "", "")
	if _, err := s.Resolve("alice"); err == nil || !strings.Contains(err.Error(), `no subuid ranges found for user "alice"`) {
		t.Fatalf("err %v", err)
	}
}

func TestNextRangeStart(t *testing.T) {
	for _, tc := range []struct {
		taken []user.SubID
		want  int64
	}{
		{nil, 100000},
		{[]user.SubID{{SubID: 300000, Count: 65536}}, 100000},
		{[]user.SubID{{SubID: 165536, Count: 65536}, {SubID: 100000, Count: 65536}}, 231072},
		{[]user.SubID{{SubID: 150000, Count: 10}}, 150010},
	} {
		if got := nextRangeStart(tc.taken); got != tc.want {
			t.Errorf("nextRangeStart(%v) = %d, want %d", tc.taken, got, tc.want)
		}
	}
}
