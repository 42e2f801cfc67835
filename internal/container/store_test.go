package container

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
)

func newTestStore(t *testing.T, ids ...string) *Store {
	t.Helper()
	s := NewStore()
	for i, id := range ids {
		c := &Container{ID: id, Created: t0.Add(time.Duration(i) * time.Second)}
		s.Add(c)
	}
	return s
}

var (
	idA = "abc1" + strings.Repeat("0", 60)
	idB = "abc2" + strings.Repeat("0", 60)
	idC = "def0" + strings.Repeat("0", 60)
)

func TestStoreGet(t *testing.T) {
	s := newTestStore(t, idA, idB, idC)
	if err := s.ReserveName("web", idA); err != nil {
		t.Fatal(err)
	}
	// A name that looks like another container's id prefix: names win over prefixes.
	if err := s.ReserveName("def0", idB); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref     string
		want    string
		wantErr func(error) bool
		msg     string
	}{
		{ref: idC, want: idC},
		{ref: "web", want: idA},
		{ref: "/web", want: idA},
		{ref: "def0", want: idB},
		{ref: "abc1", want: idA},
		{ref: "de", want: idC},
		{ref: "abc", wantErr: errdefs.IsInvalidArgument, msg: "multiple IDs found with provided prefix: abc"},
		{ref: "zzz", wantErr: errdefs.IsNotFound, msg: "No such container: zzz"},
		{ref: "/nope", wantErr: errdefs.IsNotFound, msg: "No such container: /nope"},
		{ref: "", wantErr: errdefs.IsInvalidArgument, msg: `invalid name or ID supplied: ""`},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			c, err := s.Get(tc.ref)
			if tc.wantErr != nil {
				if !tc.wantErr(err) || err.Error() != tc.msg {
					t.Fatalf("got %v, want %q", err, tc.msg)
				}
				return
			}
			if err != nil || c.ID != tc.want {
				t.Fatalf("got %v %v, want %s", c, err, tc.want)
			}
		})
	}
}

func TestStoreNames(t *testing.T) {
	s := newTestStore(t, idA, idB)
	if err := s.ReserveName("web", idA); err != nil {
		t.Fatal(err)
	}
	if err := s.ReserveName("/web", idA); err != nil {
		t.Fatalf("re-reserving own name: %v", err)
	}
	err := s.ReserveName("web", idB)
	want := `Conflict. The container name "/web" is already in use by container "` + idA + `". You have to remove (or rename) that container to be able to reuse that name.`
	if !errdefs.IsConflict(err) || err.Error() != want {
		t.Fatalf("got %v", err)
	}
	s.ReleaseName("/web")
	if err := s.ReserveName("web", idB); err != nil {
		t.Fatalf("after release: %v", err)
	}
	s.Delete(idB)
	if err := s.ReserveName("web", idA); err != nil {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := s.Get(idB); !errdefs.IsNotFound(err) {
		t.Fatalf("deleted container still found: %v", err)
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"web": true, "/web": true, "a1": true, "my_app.v2-x": true, "0abc": true,
		"a": false, "_web": false, "-web": false, "we b": false, "web/x": false, "//web": false, "": false, "wéb": false,
	} {
		err := ValidateName(name)
		if ok != (err == nil) {
			t.Errorf("ValidateName(%q) = %v", name, err)
		}
		if err != nil {
			want := "Invalid container name (" + name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
			if !errdefs.IsInvalidArgument(err) || err.Error() != want {
				t.Errorf("ValidateName(%q) message %q", name, err)
			}
		}
	}
}

func TestStoreRename(t *testing.T) {
	s := newTestStore(t, idA, idB)
	a, _ := s.Get(idA)
	a.Name = "/old"
	_ = s.ReserveName("old", idA)
	_ = s.ReserveName("taken", idB)
	if err := s.Rename(idA, "taken"); !errdefs.IsConflict(err) {
		t.Fatalf("rename to taken name: %v", err)
	}
	if err := s.Rename(idA, "old"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("rename to same name: %v", err)
	}
	if err := s.Rename(idA, "b@d"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("rename to invalid name: %v", err)
	}
	if err := s.Rename(idA, ""); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("rename to empty: %v", err)
	}
	if err := s.Rename(idA, "new"); err != nil {
		t.Fatal(err)
	}
	if a.Name != "/new" {
		t.Fatalf("name %q", a.Name)
	}
	if _, err := s.Get("old"); !errdefs.IsNotFound(err) {
		t.Fatalf("old name still resolves: %v", err)
	}
	if c, err := s.Get("new"); err != nil || c != a {
		t.Fatalf("new name: %v", err)
	}
}

func TestStoreList(t *testing.T) {
	s := newTestStore(t, idA, idB, idC)
	list := s.List()
	if len(list) != 3 || list[0].ID != idC || list[2].ID != idA {
		t.Fatalf("not newest first: %v %v %v", list[0].ID, list[1].ID, list[2].ID)
	}
}

func TestGenerateName(t *testing.T) {
	seen := map[string]bool{}
	taken := func(n string) bool { return seen[n] }
	for range 3000 {
		n := GenerateName(taken)
		if seen[n] {
			t.Fatalf("duplicate %q", n)
		}
		if n == "boring_wozniak" {
			t.Fatal("generated boring_wozniak")
		}
		if err := ValidateName(n); err != nil {
			t.Fatalf("generated invalid name %q", n)
		}
		seen[n] = true
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("bad id %q", id)
		}
		if strings.Trim(id[:12], "0123456789") == "" {
			t.Fatalf("all-digit short id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id")
		}
		seen[id] = true
	}
}

// TestReserveGeneratedNameConcurrent draws names from many goroutines at
// once, more than the adjective_surname space holds without a digit: no
// two containers get the same name, and each holds the one it drew.
func TestReserveGeneratedNameConcurrent(t *testing.T) {
	s := NewStore()
	const workers, each = 50, 600 // 30,000 draws
	names := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				names[w] = append(names[w], s.ReserveGeneratedName(fmt.Sprintf("%032x%032x", w, i)))
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for w := range workers {
		for i, n := range names[w] {
			if seen[n] {
				t.Fatalf("%q drawn twice", n)
			}
			seen[n] = true
			if err := ValidateName(n); err != nil {
				t.Fatalf("drew an invalid name: %v", err)
			}
			if err := s.ReserveName(n, fmt.Sprintf("%032x%032x", w, i)); err != nil {
				t.Fatalf("%q not held by the container that drew it: %v", n, err)
			}
		}
	}
}
