package daemon

import (
	"context"
	"fmt"
	"slices"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/berth-project/berth/internal/backend"
	"github.com/berth-project/berth/internal/container"
	eventlog "github.com/berth-project/berth/internal/events"
)

func TestCommitConfig(t *testing.T) {
	ctr := &containertypes.Config{
		Cmd:        []string{"sh", "-c", "sleep 1"},
		Env:        []string{"PATH=/bin", "A=1"},
		Labels:     map[string]string{"l": "ctr"},
		WorkingDir: "/srv",
		Hostname:   "abc",
	}
	tests := []struct {
		name    string
		req     *containertypes.Config
		changes []string
		check   func(t *testing.T, cmd, env []string, labels map[string]string, wd, user string)
	}{
		{"no overrides keeps the container's", nil, nil, func(t *testing.T, cmd, env []string, labels map[string]string, wd, user string) {
			if !slices.Equal(cmd, ctr.Cmd) || wd != "/srv" || labels["l"] != "ctr" || !slices.Contains(env, "A=1") {
				t.Errorf("got cmd %q env %q labels %v wd %q", cmd, env, labels, wd)
			}
		}},
		{"changes win and the rest is merged", nil, []string{`CMD ["/bin/true"]`, "ENV A=2 B=3", "LABEL l=new", "USER nobody", "WORKDIR rel"}, func(t *testing.T, cmd, env []string, labels map[string]string, wd, user string) {
			if !slices.Equal(cmd, []string{"/bin/true"}) || !slices.Contains(env, "A=2") || !slices.Contains(env, "B=3") || slices.Contains(env, "A=1") {
				t.Errorf("got cmd %q env %q", cmd, env)
			}
			if labels["l"] != "new" || user != "nobody" || wd != "/srv/rel" {
				t.Errorf("got labels %v user %q wd %q", labels, user, wd)
			}
		}},
		{"a request config is the base", &containertypes.Config{Env: []string{"X=1"}}, nil, func(t *testing.T, cmd, env []string, labels map[string]string, wd, user string) {
			if !slices.Contains(env, "X=1") || !slices.Contains(env, "PATH=/bin") || !slices.Equal(cmd, ctr.Cmd) {
				t.Errorf("got cmd %q env %q", cmd, env)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := commitConfig(ctr, tt.req, tt.changes)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got.Cmd, got.Env, got.Labels, got.WorkingDir, got.User)
		})
	}
	if _, err := commitConfig(ctr, nil, []string{"BOGUS x"}); err == nil {
		t.Error("an unknown change was accepted")
	}
}

func TestContainerCommitEvents(t *testing.T) {
	images := &fakeImages{}
	d := &Daemon{events: eventlog.New(0), images: images, containers: container.NewStore()}
	c := &container.Container{ID: "abc123", Name: "/web", ImageID: testImageID, Config: &containertypes.Config{Image: "busybox", Cmd: []string{"sh"}}}
	d.containers.Add(c)
	if err := d.containers.ReserveName("web", c.ID); err != nil {
		t.Fatal(err)
	}

	id, err := d.ContainerCommit(context.Background(), "web", backend.CommitOptions{Repo: "snap", Comment: "why", Author: "me", Changes: []string{"ENV A=1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(images.commits) != 1 {
		t.Fatalf("commits: %+v", images.commits)
	}
	got := images.commits[0]
	if got.ContainerID != "abc123" || got.ImageID != testImageID || got.Ref != "snap" || got.CreatedBy != "sh" || got.Author != "me" || !slices.Contains(got.Config.Env, "A=1") || !slices.Contains(got.Exclude, "/etc/hosts") {
		t.Errorf("commit options: %+v", got)
	}
	var seen []string
	for _, m := range recorded(t, d) {
		seen = append(seen, fmt.Sprint(m.Type, " ", m.Action, " ", m.Actor.Attributes["name"], " ", m.Actor.Attributes["imageID"]))
	}
	want := []string{"image tag snap:latest ", "container commit web " + id}
	if !slices.Equal(seen, want) {
		t.Errorf("events %q, want %q", seen, want)
	}
	if _, err := d.ContainerCommit(context.Background(), "web", backend.CommitOptions{Tag: "t"}); err == nil {
		t.Error("a tag without a repository was accepted")
	}
}
